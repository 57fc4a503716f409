using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The run projection on Table Storage. Each run has a partition of its own (PK the run id) holding its head, status,
/// tasks, long texts and event log, written only through <see cref="RunPartition"/>, one batch per change; reading a
/// run is one range query of it. A row per run under its account (PK account, RK run id) serves listings, with the
/// account's run count beside them (TableRunStore.Listing.cs).
/// </summary>
public sealed partial class TableRunStore(
    OrchflowTables tables, TimeProvider clock, IEnumerable<IRunLogObserver> observers, IRunLogOutbox? outbox = null, RunMarks? marks = null)
    : IRunStore, IDisposable
{
    // Without the host's marks, a store of its own: it never shares what it knows with another store.
    readonly RunPartition partition = new(tables, clock, observers, outbox, marks ??= RunMarks.WithoutWindow());
    readonly RunMarks marks = marks;
    readonly RunReadCache cache = new();

    /// <summary>
    /// A definition as its text reads: the default encoder writes every non-ASCII character as a six-character escape,
    /// which would make a definition in another script several times longer. It is stored, never put in a page.
    /// </summary>
    static readonly JsonSerializerOptions DefinitionJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var definition = JsonSerializer.Serialize(run.Definition, DefinitionJson);
        var head = new TableEntity(run.RunId, RunRows.Head)
        {
            ["AccountId"] = run.AccountId,
            ["Status"] = run.Status.ToWire(),
            ["CreatedAt"] = run.CreatedAt,
            ["UpdatedAt"] = run.UpdatedAt,
        };
        TextChunks.SetProperty(head, "Definition", definition);

        // The partition first: should the listing row then fail, no listing shows the run and the caller is told the
        // start failed. The other order could leave a listed run, queued for ever, whose start was never attempted.
        await partition.CreateAsync(run, head, cancellationToken);
        var listed = new TableEntity(run.AccountId, run.RunId)
        {
            ["Status"] = run.Status.ToWire(),
            ["Goal"] = run.Definition.Goal,
            ["InputTokens"] = 0L,
            ["OutputTokens"] = 0L,
            ["Version"] = 1L,
            ["CreatedAt"] = run.CreatedAt,
            ["UpdatedAt"] = run.UpdatedAt,
        };
        TextChunks.SetProperty(listed, "Definition", definition);
        var added = await tables.Runs.AddEntityAsync(listed, cancellationToken);
        partition.Listing.Listed(run.RunId, 1, added.Headers.ETag ?? default, run.Status);
        await CountNewRunAsync(run.AccountId, cancellationToken);
    }

    public async Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var stamp = marks.Now();

        // A copy older than a version seen here needs no point read to be found out of date.
        if (cache.Get(runId) is { } cached && marks.Latest(runId) <= cached.Version)
        {
            // A copy read before: still the run if the run's version has not moved since.
            var status = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Status,
                select: ["AccountId", "Status", "Version", "Sequence"], cancellationToken: cancellationToken);
            if (status.HasValue && status.Value is { } row && row.GetString("AccountId") is { } owner)
            {
                var mark = RunPartition.MarkOf(row);
                marks.Saw(owner, runId, mark, stamp);
                if (mark.Version == cached.Version)
                {
                    return owner == accountId ? cached : null;
                }
            }
        }

        var run = await ReadAsync(accountId, runId, cancellationToken);
        if (run is { Version: > 0 })
        {
            cache.Set(run);
            marks.Saw(run, stamp);
        }

        return run;
    }

    public async Task<RunRecord?> GetRecentAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        if (marks.Recent(runId) is { } recent && cache.Get(runId) is { } cached && cached.Version == recent.Mark.Version)
        {
            return recent.AccountId == accountId ? cached : null;
        }

        return await GetAsync(accountId, runId, cancellationToken);
    }

    /// <summary>
    /// The run read whole, by one range of its partition: the head (owner and definition), status, tasks, outputs
    /// and notes; the event log sorts after it.
    /// </summary>
    async Task<RunRecord?> ReadAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var e in tables.RunTasks.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {runId} and RowKey lt {RunRows.EndOfRun}"),
                           cancellationToken: cancellationToken))
        {
            rows.Add(e);
        }

        // What the next change of the run starts from, whoever reads it.
        partition.Read(runId, rows);
        RunRecord run;
        if (rows.FirstOrDefault(r => r.RowKey == RunRows.Head) is { } head)
        {
            if (head.GetString("AccountId") != accountId)
            {
                return null;
            }

            run = ToRun(head, accountId, runId);
        }
        else
        {
            // A run whose head was never written: its run row, which also proves the caller owns it.
            var row = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, runId, cancellationToken: cancellationToken);
            if (!row.HasValue || row.Value is null)
            {
                return null;
            }

            run = ToRun(row.Value);
        }

        var texts = rows.Where(r => !RunRows.IsTask(r.RowKey)).ToDictionary(r => r.RowKey, r => r.GetString("Text") ?? "");
        var tasks = rows
            .Where(r => RunRows.IsTask(r.RowKey))
            .Select(r => TaskEntities.ToTask(r, ReadText(r, texts)))
            .OrderBy(t => t.TaskId, TaskIds.Order)
            .ToList();
        var final = rows.FirstOrDefault(r => r.RowKey == RunRows.FinalOutput);
        var notes = rows
            .Where(r => r.RowKey.StartsWith(RunRows.NotePrefix, StringComparison.Ordinal))
            .Select(r => new RunEvent(r.RowKey[RunRows.NotePrefix.Length..], r.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                r.GetString("Kind") ?? "", r.GetString("Message") ?? ""))
            .OrderBy(e => e.At)
            .ToList();

        if (rows.FirstOrDefault(r => r.RowKey == RunRows.Status) is { } status)
        {
            run = run with
            {
                Status = WireNames.Parse<RunStatus>(status.GetString("Status")),
                Error = status.GetString("Error") ?? run.Error,
                Usage = status.GetInt64("InputTokens") is { } input
                    ? new TokenUsage(input, status.GetInt64("OutputTokens") ?? 0)
                    : run.Usage,
                PlannedBy = status.GetString("PlannedBy") ?? run.PlannedBy,
                UpdatedAt = status.GetDateTimeOffset("UpdatedAt") ?? run.UpdatedAt,
                Version = status.GetInt64("Version") ?? 0,
                Sequence = status.GetInt64("Sequence") ?? 0,
                AwaitingPlanReview = status.GetBoolean("AwaitingPlanReview") ?? false,
                PlanRound = status.GetInt32("PlanRound") ?? 0,
                PlannedRound = status.GetInt32("PlannedRound") ?? (tasks.Count > 0 ? 0 : -1),
                PlanApproved = status.GetBoolean("PlanApproved") ?? false,
                Attempt = status.GetInt32("Attempt") ?? 0,
            };
        }

        return run with { Tasks = tasks, FinalOutput = final is null ? null : ReadText(final, texts), Events = notes };
    }

    public void Dispose()
    {
        cache.Dispose();
        partition.Dispose();
    }

    public async Task<TaskRecord?> GetTaskAsync(string runId, string taskId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, taskId, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value is null)
        {
            return null;
        }

        var chunks = row.Value.GetInt32("OutputChunks") ?? 0;
        var texts = new Dictionary<string, string>();
        if (chunks > 0)
        {
            var prefix = taskId + "~";
            await foreach (var e in tables.RunTasks.QueryAsync<TableEntity>(
                               e => e.PartitionKey == runId && e.RowKey.CompareTo(prefix) > 0 && e.RowKey.CompareTo(prefix + "~") < 0,
                               cancellationToken: cancellationToken))
            {
                texts[e.RowKey] = e.GetString("Text") ?? "";
            }
        }

        return TaskEntities.ToTask(row.Value, ReadText(row.Value, texts));
    }

    public async Task<bool> SavePlanAsync(string accountId, string runId, PlanSave save, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return await partition.CommitAsync(runId, TaskScope.All, null, state =>
        {
            if (state.Status.IsTerminal() || state.Attempt != save.Attempt)
            {
                // Cancelled while the model was planning, or a newer attempt runs the run: this plan is nobody's.
                return (null, false);
            }

            if (state.PlannedRound >= save.Round && state.Tasks.Count > 0)
            {
                // An earlier attempt of this activity saved it and could not report back: planning lands once.
                return (null, true);
            }

            var change = new PartitionChange
            {
                Usage = save.Usage,
                PlannedBy = save.Plan.PlannedBy,
                PlannedRound = save.Round,
                Status = save.AwaitReview ? RunStatus.WaitingHuman : null,
                AwaitingPlanReview = save.AwaitReview,
            };
            ReplaceTasks(change, state, save.Plan.Tasks);
            change.Extra.AddRange(save.Notes.Select(n => new TableEntity(runId, RunRows.NotePrefix + n.Key)
            {
                ["At"] = n.At,
                ["Kind"] = n.Kind,
                ["Message"] = n.Message,
            }));
            change.Events.Add(RunLog.Planned(save.Plan.Tasks.Count, save.Plan.PlannedBy));
            if (save.AwaitReview)
            {
                change.Events.Add(RunLog.PlanWaiting(save.Round));
            }

            return (change, true);
        }, cancellationToken);
    }

    public async Task<PlanReviewOutcome> ReviewPlanAsync(string accountId, string runId, PlanVerdict verdict, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var result = await partition.CommitAsync(runId, TaskScope.All, null, state =>
        {
            if (state.AccountId != accountId)
            {
                return (null, PlanReviewResult.NotFound);
            }

            if (state.Status != RunStatus.WaitingHuman || !state.AwaitingPlanReview || state.PlanRound != verdict.Round)
            {
                return (null, PlanReviewResult.NotWaiting);
            }

            PartitionChange change;
            if (!verdict.Approved)
            {
                // The plan stays visible while the model plans again with the feedback; the new one replaces it.
                change = new PartitionChange { Status = RunStatus.Planning, AwaitingPlanReview = false, PlanRound = verdict.Round + 1 };
            }
            else
            {
                change = new PartitionChange
                {
                    Status = RunStatus.Running,
                    AwaitingPlanReview = false,
                    PlanApproved = true,
                    PlannedBy = verdict.Plan is null ? null : "user",
                };
                if (verdict.Plan is { } edited)
                {
                    ReplaceTasks(change, state, edited);
                }
            }

            change.Events.Add(RunLog.PlanReviewed(verdict.Approved, verdict.Plan is not null, verdict.Feedback));
            if (verdict.Plan is { } plan)
            {
                change.Events.Add(RunLog.Planned(plan.Count, "user"));
            }

            return (change, PlanReviewResult.Reviewed);
        }, cancellationToken);

        return new PlanReviewOutcome(result, result == PlanReviewResult.NotFound ? null : await GetAsync(accountId, runId, cancellationToken));
    }

    public async Task<RetryOutcome> RetryAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var definition = (await GetAsync(accountId, runId, cancellationToken))?.Definition;
        var result = definition is null ? RetryResult.NotFound : await partition.CommitAsync(runId, TaskScope.All, null, state =>
        {
            if (state.AccountId != accountId)
            {
                return (null, RetryResult.NotFound);
            }

            if (state.Status is not (RunStatus.Failed or RunStatus.Cancelled))
            {
                return (null, RetryResult.NotRetryable);
            }

            // A plan that still needs its review is shown waiting on it again; otherwise the run waits to go on.
            var reviewAgain = definition.RequirePlanApproval && !state.PlanApproved && state.Tasks.Count > 0;
            var change = new PartitionChange
            {
                Status = reviewAgain ? RunStatus.WaitingHuman : RunStatus.Queued,
                AwaitingPlanReview = reviewAgain,
                Attempt = state.Attempt + 1,
                ClearError = true,
            };
            var reset = state.Tasks.Where(t => t.State != TaskState.Completed).ToList();
            foreach (var task in reset)
            {
                var fresh = task with { State = TaskState.Pending, Error = null, Output = null, StartedAt = null, CompletedAt = null, Feedback = null };
                change.Rows.Add((fresh, TaskEntities.ToEntity(runId, fresh)));
            }

            change.Events.Add(RunLog.Retried(state.Attempt + 1, reset.Select(t => t.TaskId)));
            if (reviewAgain)
            {
                change.Events.Add(RunLog.PlanWaiting(state.PlanRound));
            }

            return (change, RetryResult.Retried);
        }, cancellationToken);

        return new RetryOutcome(result, result == RetryResult.NotFound ? null : await GetAsync(accountId, runId, cancellationToken));
    }

    /// <summary>Puts <paramref name="tasks"/> in place of the run's tasks: new ones added, kept ones replaced, the rest removed.</summary>
    static void ReplaceTasks(PartitionChange change, PartitionState state, IReadOnlyList<PlannedTask> tasks)
    {
        var ids = tasks.Select(t => t.TaskId).ToHashSet();
        change.Removed.AddRange(state.Tasks.Where(t => !ids.Contains(t.TaskId)));
        change.Rows.AddRange(tasks.Select(TaskRecord.FromPlan).Select(t => (t, TaskEntities.ToEntity(state.RunId, t))));
    }

    public async Task<bool> ApplyAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return await partition.CommitAsync(transition.RunId, TaskScope.All, null, state =>
        {
            if (state.Attempt != transition.Attempt)
            {
                // An orchestration a retry has replaced: it stops, and nothing it says is written.
                return (null, false);
            }

            if (state.Status.IsTerminal())
            {
                // A cancel may have landed first: keep its word. Applying the same ending twice is not a conflict.
                return (null, state.Status == transition.Status);
            }

            var now = clock.GetUtcNow();
            var moved = new List<TaskRecord>();
            foreach (var t in transition.Tasks)
            {
                // A task that has ended keeps its ending: a late transition (a cancel racing an answer) cannot undo it.
                if (state.Task(t.TaskId) is { } task && task.State != t.State && !task.State.IsTerminal())
                {
                    moved.Add(Moved(task, t.State, t.Error, now));
                }
            }

            // The engine may still count on a human whose answer has just landed: with nothing left waiting, the run
            // is not waiting on anyone, it is about to move on.
            var status = transition.Status;
            if (status == RunStatus.WaitingHuman && !state.AwaitingPlanReview &&
                !state.Tasks.Select(t => moved.FirstOrDefault(m => m.TaskId == t.TaskId) ?? t).Any(t => t.State == TaskState.WaitingHuman))
            {
                status = RunStatus.Running;
            }

            var change = new PartitionChange
            {
                Status = status,
                Usage = transition.Usage,
                Error = transition.Error,
                AwaitingPlanReview = status.IsTerminal() ? false : null,
            };
            change.States.AddRange(moved);
            var unchanged = change.States.Count == 0 && status == state.Status &&
                            (transition.Usage is null || transition.Usage == state.Usage) && transition.Error is null;
            return (unchanged ? null : change, true);
        }, cancellationToken);
    }

    public async Task<bool> StartTaskAsync(string accountId, string runId, int attempt, string taskId, TokenUsage usage, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return await partition.CommitAsync(runId, TaskScope.One, taskId, state =>
        {
            if (state.AccountId != accountId || state.Attempt != attempt || state.Status.IsTerminal())
            {
                return (null, false);
            }

            if (state.Task(taskId) is not { State: TaskState.Pending } task)
            {
                return (null, true);
            }

            var change = new PartitionChange { Status = RunStatus.Running, Usage = usage };
            change.States.Add(Moved(task, TaskState.Running, null, clock.GetUtcNow()));
            return (change, true);
        }, cancellationToken);
    }

    public async Task<bool> TryReplaceTaskAsync(string runId, TaskRecord task, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var entity = TaskEntities.ToEntity(runId, task);
        var chunkRows = TextRows(runId, task.TaskId, task.Output, entity);
        foreach (var chunk in chunkRows)
        {
            await tables.RunTasks.UpsertEntityAsync(chunk, TableUpdateMode.Replace, cancellationToken);
        }

        var written = await partition.CommitAsync(runId, TaskScope.One, task.TaskId, state =>
        {
            var stored = state.Task(task.TaskId);
            if (stored is null || (task.ETag is not null && stored.ETag != task.ETag))
            {
                // Another writer got there first; the task as they left it stands.
                return (null, false);
            }

            var change = new PartitionChange();
            change.Rows.Add((task, entity));
            return (change, true);
        }, cancellationToken);

        if (!written)
        {
            // The row that won points at its own chunks; these are nobody's.
            foreach (var chunk in chunkRows)
            {
                await tables.RunTasks.DeleteEntityAsync(runId, chunk.RowKey, ETag.All, cancellationToken);
            }
        }

        return written;
    }

    public async Task<bool> CompleteAsync(string accountId, string runId, int attempt, string finalOutput, TokenUsage usage, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var final = new TableEntity(runId, RunRows.FinalOutput);
        foreach (var chunk in TextRows(runId, RunRows.FinalOutput, finalOutput, final))
        {
            await tables.RunTasks.UpsertEntityAsync(chunk, TableUpdateMode.Replace, cancellationToken);
        }

        return await partition.CommitAsync(runId, TaskScope.None, null, state =>
        {
            if (state.Status.IsTerminal() || state.Attempt != attempt)
            {
                return (null, state.Status == RunStatus.Completed && state.Attempt == attempt);
            }

            var change = new PartitionChange { Status = RunStatus.Completed, Usage = usage };
            change.Extra.Add(final);
            return (change, true);
        }, cancellationToken);
    }

    public async Task<CancelOutcome> CancelAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var result = await partition.CommitAsync(runId, TaskScope.All, null, state =>
        {
            if (state.AccountId != accountId)
            {
                return (null, CancelResult.NotFound);
            }

            if (state.Status.IsTerminal())
            {
                return (null, state.Status == RunStatus.Cancelled ? CancelResult.AlreadyCancelled : CancelResult.AlreadyFinished);
            }

            var now = clock.GetUtcNow();
            var change = new PartitionChange { Status = RunStatus.Cancelled, AwaitingPlanReview = false };
            change.States.AddRange(state.Tasks.Where(t => !t.State.IsTerminal()).Select(t => Moved(t, TaskState.Cancelled, null, now)));
            return (change, CancelResult.Cancelled);
        }, cancellationToken);

        return new CancelOutcome(result, result == CancelResult.NotFound ? null : await GetAsync(accountId, runId, cancellationToken));
    }

    /// <summary>A task moved to another state: a human task starts when it starts waiting; an ending is timed.</summary>
    static TaskRecord Moved(TaskRecord task, TaskState state, string? error, DateTimeOffset now) => task with
    {
        State = state,
        StartedAt = state is TaskState.Running or TaskState.WaitingHuman ? now : task.StartedAt,
        CompletedAt = state.IsTerminal() ? now : task.CompletedAt,
        WaitingSince = state == TaskState.WaitingHuman ? now : task.WaitingSince,
        Error = error ?? task.Error,
    };

    /// <summary>
    /// Puts a text on its row, inline when it fits one property, else as chunk rows beside it. Chunks are keyed by a
    /// generation of their own, never overwritten, so a writer that loses the row's ETag race cannot clobber the
    /// text of the one that won.
    /// </summary>
    static List<TableEntity> TextRows(string runId, string key, string? text, TableEntity owner)
    {
        owner["Output"] = null;
        owner["OutputChunks"] = 0;
        owner["OutputGeneration"] = null;
        if (text is null)
        {
            return [];
        }

        var chunks = TextChunks.Split(text);
        if (chunks.Count == 1)
        {
            owner["Output"] = text;
            return [];
        }

        var generation = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        owner["OutputChunks"] = chunks.Count;
        owner["OutputGeneration"] = generation;
        return chunks.Select((c, i) => new TableEntity(runId, ChunkKey(key, generation, i)) { ["Text"] = c }).ToList();
    }

    static string? ReadText(TableEntity row, IReadOnlyDictionary<string, string> chunkTexts)
    {
        var chunks = row.GetInt32("OutputChunks") ?? 0;
        if (chunks == 0)
        {
            return row.GetString("Output");
        }

        return string.Concat(Enumerable.Range(0, chunks).Select(i =>
            chunkTexts.TryGetValue(ChunkKey(row.RowKey, row.GetString("OutputGeneration"), i), out var text)
                ? text
                : throw new InvalidOperationException($"Chunk {i} of {row.PartitionKey}/{row.RowKey} is missing.")));
    }

    /// <summary>A chunk's row key; rows written before chunks had generations have none.</summary>
    static string ChunkKey(string key, string? generation, int index) =>
        generation is null ? $"{key}~{index:D4}" : $"{key}~{generation}~{index:D4}";

    static RunRecord ToRun(TableEntity e) => ToRun(e, e.PartitionKey, e.RowKey);

    /// <summary>A run from its run row or its head row (whose keys are the run id and "~run").</summary>
    static RunRecord ToRun(TableEntity e, string accountId, string runId) => new()
    {
        RunId = runId,
        AccountId = accountId,
        Status = WireNames.Parse<RunStatus>(e.GetString("Status")),
        Definition = JsonSerializer.Deserialize<RunDefinition>(TextChunks.GetProperty(e, "Definition") ?? "null")
            ?? throw new InvalidOperationException($"Run {e.RowKey} has no definition."),
        Error = e.GetString("Error"),
        Usage = new TokenUsage(e.GetInt64("InputTokens") ?? 0, e.GetInt64("OutputTokens") ?? 0),
        PlannedBy = e.GetString("PlannedBy"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
    };
}
