using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The run projection on Table Storage. A run row lives under its account (PK account, RK run id), so every
/// read is scoped to the caller by construction; its tasks and long texts live in one partition per run, so
/// a whole run is one point read plus one range query.
/// </summary>
public sealed class TableRunStore(OrchflowTables tables, TimeProvider clock) : IRunStore
{
    const string FinalOutputKey = "~final";
    const string EventPrefix = "~event~";

    /// <summary>
    /// The run's status as seen beside its tasks: written in the same transaction as the task states it goes with, so
    /// one read of the partition never shows a run that failed with tasks still pending, or running with none running.
    /// The run row (read by listings) follows it.
    /// </summary>
    const string StatusKey = "~status";

    /// <summary>
    /// What never changes about a run (its owner, definition and creation), copied beside its tasks when it is created,
    /// so that reading a run is one query of its partition; the run row stays the source for listings and cancels.
    /// </summary>
    const string HeadKey = "~run";
    const int MaxWriteAttempts = 8;

    public async Task CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var entity = new TableEntity(run.AccountId, run.RunId)
        {
            ["Status"] = run.Status.ToWire(),
            ["Goal"] = run.Definition.Goal,
            ["Definition"] = JsonSerializer.Serialize(run.Definition),
            ["InputTokens"] = 0L,
            ["OutputTokens"] = 0L,
            ["CreatedAt"] = run.CreatedAt,
            ["UpdatedAt"] = run.UpdatedAt,
        };

        // The head first: should the run row then fail, no listing shows the run and the caller is told the start
        // failed. The other order could leave a listed run, queued for ever, whose start was never attempted.
        var head = new TableEntity(run.RunId, HeadKey)
        {
            ["AccountId"] = run.AccountId,
            ["Status"] = run.Status.ToWire(),
            ["Definition"] = entity["Definition"],
            ["CreatedAt"] = run.CreatedAt,
            ["UpdatedAt"] = run.UpdatedAt,
        };
        await tables.RunTasks.UpsertEntityAsync(head, TableUpdateMode.Replace, cancellationToken);
        await tables.Runs.AddEntityAsync(entity, cancellationToken);
    }

    public async Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();

        // One query: the run's partition holds its head (owner and definition), status, tasks, outputs and events.
        var rows = new List<TableEntity>();
        await foreach (var e in tables.RunTasks.QueryAsync<TableEntity>(e => e.PartitionKey == runId, cancellationToken: cancellationToken))
        {
            rows.Add(e);
        }

        RunRecord run;
        if (rows.FirstOrDefault(r => r.RowKey == HeadKey) is { } head)
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

        var texts = rows.Where(r => r.RowKey.Contains('~')).ToDictionary(r => r.RowKey, r => r.GetString("Text") ?? "");
        var tasks = rows
            .Where(r => !r.RowKey.Contains('~'))
            .Select(r => ToTask(r, ReadText(r, texts)))
            .OrderBy(t => t.TaskId, TaskIds.Order)
            .ToList();
        var final = rows.FirstOrDefault(r => r.RowKey == FinalOutputKey);
        var events = rows
            .Where(r => r.RowKey.StartsWith(EventPrefix, StringComparison.Ordinal))
            .Select(r => new RunEvent(r.RowKey[EventPrefix.Length..], r.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                r.GetString("Kind") ?? "", r.GetString("Message") ?? ""))
            .OrderBy(e => e.At)
            .ToList();

        if (rows.FirstOrDefault(r => r.RowKey == StatusKey) is { } status)
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
            };
        }

        return run with { Tasks = tasks, FinalOutput = final is null ? null : ReadText(final, texts), Events = events };
    }

    public async Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();

        // Table Storage has no offset: read the keys alone to count and to find the page's bounds, then read
        // the page itself with one range query. Run ids sort newest first, so key order is listing order.
        var keys = new List<string>();
        await foreach (var e in tables.Runs.QueryAsync<TableEntity>(
                           e => e.PartitionKey == accountId, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(e.RowKey);
        }

        if (offset >= keys.Count)
        {
            return new RunPage([], keys.Count);
        }

        var first = keys[offset];
        var last = keys[Math.Min(keys.Count, offset + limit) - 1];
        var runs = new List<RunRecord>();
        await foreach (var e in tables.Runs.QueryAsync<TableEntity>(
                           e => e.PartitionKey == accountId && e.RowKey.CompareTo(first) >= 0 && e.RowKey.CompareTo(last) <= 0,
                           cancellationToken: cancellationToken))
        {
            runs.Add(ToRun(e));
        }

        return new RunPage(runs.OrderBy(r => r.RunId, StringComparer.Ordinal).Take(limit).ToList(), keys.Count);
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

        return ToTask(row.Value, ReadText(row.Value, texts));
    }

    public async Task<bool> SavePlanAsync(string accountId, string runId, RunPlan plan, TokenUsage usage, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var run = await tables.Runs.GetEntityAsync<TableEntity>(accountId, runId, select: ["Status"], cancellationToken: cancellationToken);
        if (WireNames.Parse<RunStatus>(run.Value.GetString("Status")).IsTerminal())
        {
            // Cancelled while the model was planning: a plan nobody will run is not written at all.
            return false;
        }

        // Upserts keyed by run and task id: planning may run twice after a crash and must land the same way.
        var actions = plan.Tasks.Select(t => new TableTransactionAction(
            TableTransactionActionType.UpsertReplace, ToEntity(runId, TaskRecord.FromPlan(t)))).ToList();
        actions.Add(StatusAction(runId, RunStatus.Running, usage, null, plan.PlannedBy));
        foreach (var batch in actions.Chunk(100))
        {
            await tables.RunTasks.SubmitTransactionAsync(batch, cancellationToken);
        }

        if (await UpdateRunAsync(accountId, runId, RunStatus.Running, usage, null, plan.PlannedBy, cancellationToken, run.Value))
        {
            return true;
        }

        // Cancelled between the check above and now: the tasks just written must not stay pending.
        await CancelOpenTasksAsync(runId, cancellationToken);
        return false;
    }

    public async Task<bool> ApplyAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var current = await tables.Runs.GetEntityAsync<TableEntity>(transition.AccountId, transition.RunId, select: ["Status"],
            cancellationToken: cancellationToken);
        var status = WireNames.Parse<RunStatus>(current.Value.GetString("Status"));
        if (status.IsTerminal() && status != transition.Status)
        {
            return false;
        }

        // The tasks and the status they go with land together; the run row follows.
        var now = clock.GetUtcNow();
        var actions = transition.Tasks.Select(t => new TableTransactionAction(TableTransactionActionType.UpdateMerge, TaskStateEntity(transition.RunId, t, now)))
            .Append(StatusAction(transition.RunId, transition.Status, transition.Usage, transition.Error))
            .ToList();
        await tables.RunTasks.SubmitTransactionAsync(actions, cancellationToken);

        if (!await UpdateRunAsync(transition.AccountId, transition.RunId, transition.Status, transition.Usage,
                transition.Error, null, cancellationToken, current.Value))
        {
            // A cancel landed between the check above and now: keep its word.
            await CancelOpenTasksAsync(transition.RunId, cancellationToken);
            return false;
        }

        return true;
    }

    static TableEntity TaskStateEntity(string runId, TaskTransition t, DateTimeOffset now)
    {
        var entity = new TableEntity(runId, t.TaskId) { ["State"] = t.State.ToWire() };
        if (t.State is TaskState.Running or TaskState.WaitingHuman)
        {
            // A human task starts when it starts waiting; an agent task's approval wait is written by its activity.
            entity["StartedAt"] = now;
        }
        else if (t.State.IsTerminal())
        {
            entity["CompletedAt"] = now;
        }

        if (t.Error is not null)
        {
            entity["Error"] = t.Error;
        }

        return entity;
    }

    TableTransactionAction StatusAction(string runId, RunStatus status, TokenUsage? usage, string? error, string? plannedBy = null)
    {
        var entity = new TableEntity(runId, StatusKey) { ["Status"] = status.ToWire(), ["UpdatedAt"] = clock.GetUtcNow() };
        if (plannedBy is not null)
        {
            entity["PlannedBy"] = plannedBy;
        }

        if (usage is not null)
        {
            entity["InputTokens"] = usage.InputTokens;
            entity["OutputTokens"] = usage.OutputTokens;
        }

        if (error is not null)
        {
            entity["Error"] = error;
        }

        return new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity);
    }

    public async Task<bool> TryReplaceTaskAsync(string runId, TaskRecord task, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var entity = ToEntity(runId, task);
        var chunkRows = TextRows(runId, task.TaskId, task.Output, entity);
        foreach (var chunk in chunkRows)
        {
            await tables.RunTasks.UpsertEntityAsync(chunk, TableUpdateMode.Replace, cancellationToken);
        }

        try
        {
            if (task.ETag is null)
            {
                await tables.RunTasks.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
            }
            else
            {
                await tables.RunTasks.UpdateEntityAsync(entity, new ETag(task.ETag), TableUpdateMode.Replace, cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            // Another writer won; its row points at its own chunks, so this attempt's chunks are simply dropped.
            foreach (var chunk in chunkRows)
            {
                await tables.RunTasks.DeleteEntityAsync(runId, chunk.RowKey, ETag.All, cancellationToken);
            }

            return false;
        }
    }

    public async Task AddEventsAsync(string runId, IReadOnlyList<RunEvent> events, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        foreach (var e in events)
        {
            await tables.RunTasks.UpsertEntityAsync(
                new TableEntity(runId, EventPrefix + e.Key) { ["At"] = e.At, ["Kind"] = e.Kind, ["Message"] = e.Message },
                TableUpdateMode.Replace, cancellationToken);
        }
    }

    public async Task<bool> CompleteAsync(string accountId, string runId, string finalOutput, TokenUsage usage, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var entity = new TableEntity(runId, FinalOutputKey);
        foreach (var chunk in TextRows(runId, FinalOutputKey, finalOutput, entity))
        {
            await tables.RunTasks.UpsertEntityAsync(chunk, TableUpdateMode.Replace, cancellationToken);
        }

        var run = await tables.Runs.GetEntityAsync<TableEntity>(accountId, runId, select: ["Status"], cancellationToken: cancellationToken);
        if (WireNames.Parse<RunStatus>(run.Value.GetString("Status")) is var status && status.IsTerminal())
        {
            return status == RunStatus.Completed;
        }

        await tables.RunTasks.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity), StatusAction(runId, RunStatus.Completed, usage, null)],
            cancellationToken);
        if (await UpdateRunAsync(accountId, runId, RunStatus.Completed, usage, null, null, cancellationToken, run.Value))
        {
            return true;
        }

        await CancelOpenTasksAsync(runId, cancellationToken);
        return false;
    }

    public async Task<CancelOutcome> CancelAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var row = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, runId, cancellationToken: cancellationToken);
            if (!row.HasValue || row.Value is null)
            {
                return new CancelOutcome(CancelResult.NotFound, null);
            }

            var status = WireNames.Parse<RunStatus>(row.Value.GetString("Status"));
            if (status == RunStatus.Cancelled)
            {
                // Finish what an interrupted cancel may have left, so a retry repairs it.
                await CancelOpenTasksAsync(runId, cancellationToken);
                return new CancelOutcome(CancelResult.AlreadyCancelled, await GetAsync(accountId, runId, cancellationToken));
            }

            if (status.IsTerminal())
            {
                return new CancelOutcome(CancelResult.AlreadyFinished, await GetAsync(accountId, runId, cancellationToken));
            }

            var update = new TableEntity(accountId, runId)
            {
                ["Status"] = RunStatus.Cancelled.ToWire(),
                ["UpdatedAt"] = clock.GetUtcNow(),
            };
            try
            {
                await tables.Runs.UpdateEntityAsync(update, row.Value.ETag, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                continue;
            }

            await CancelOpenTasksAsync(runId, cancellationToken);
            return new CancelOutcome(CancelResult.Cancelled, await GetAsync(accountId, runId, cancellationToken));
        }

        throw new InvalidOperationException($"Run {runId} kept changing while it was being cancelled.");
    }

    /// <summary>Cancels every unfinished task and records the cancelled status beside them, in one transaction.</summary>
    async Task CancelOpenTasksAsync(string runId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var actions = new List<TableTransactionAction>();
        await foreach (var e in tables.RunTasks.QueryAsync<TableEntity>(
                           e => e.PartitionKey == runId, select: ["RowKey", "State"], cancellationToken: cancellationToken))
        {
            if (!e.RowKey.Contains('~') && !WireNames.Parse<TaskState>(e.GetString("State")).IsTerminal())
            {
                actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                    TaskStateEntity(runId, new TaskTransition(e.RowKey, TaskState.Cancelled), now)));
            }
        }

        actions.Add(StatusAction(runId, RunStatus.Cancelled, null, null));
        await tables.RunTasks.SubmitTransactionAsync(actions, cancellationToken);
    }

    /// <summary>Moves the run row to a status unless it already ended; optimistic, retried on a concurrent write.</summary>
    /// <param name="read">The run row as the caller just read it (its status and ETag), saving the first read.</param>
    async Task<bool> UpdateRunAsync(
        string accountId, string runId, RunStatus status, TokenUsage? usage, string? error, string? plannedBy,
        CancellationToken cancellationToken, TableEntity? read = null)
    {
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var row = attempt == 0 && read is not null
                ? read
                : (await tables.Runs.GetEntityAsync<TableEntity>(accountId, runId, select: ["Status"], cancellationToken: cancellationToken)).Value;
            var current = WireNames.Parse<RunStatus>(row.GetString("Status"));
            if (current.IsTerminal())
            {
                return current == status;
            }

            var update = new TableEntity(accountId, runId)
            {
                ["Status"] = status.ToWire(),
                ["UpdatedAt"] = clock.GetUtcNow(),
            };
            if (usage is not null)
            {
                update["InputTokens"] = usage.InputTokens;
                update["OutputTokens"] = usage.OutputTokens;
            }

            if (error is not null)
            {
                update["Error"] = error;
            }

            if (plannedBy is not null)
            {
                update["PlannedBy"] = plannedBy;
            }

            try
            {
                await tables.Runs.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Someone else wrote the row (a cancel); read it again and decide again.
            }
        }

        throw new InvalidOperationException($"Run {runId} kept changing while it was being updated.");
    }

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

    static TableEntity ToEntity(string runId, TaskRecord task)
    {
        var entity = new TableEntity(runId, task.TaskId)
        {
            ["Name"] = task.Name,
            ["Description"] = task.Description,
            ["Kind"] = task.Kind.ToWire(),
            ["Agent"] = task.Agent,
            ["State"] = task.State.ToWire(),
            ["DependsOn"] = JsonSerializer.Serialize(task.DependsOn),
            ["Prompt"] = task.Prompt,
            ["Error"] = task.Error,
            ["InputTokens"] = task.Usage.InputTokens,
            ["OutputTokens"] = task.Usage.OutputTokens,
            ["StartedAt"] = task.StartedAt,
            ["CompletedAt"] = task.CompletedAt,
            ["ReviewRound"] = task.ReviewRound,
            ["Feedback"] = task.Feedback,
        };
        if (task.Output is { Length: <= TextChunks.MaxChunkLength })
        {
            entity["Output"] = task.Output;
        }

        return entity;
    }

    static TaskRecord ToTask(TableEntity e, string? output) => new()
    {
        TaskId = e.RowKey,
        Name = e.GetString("Name") ?? "",
        Description = e.GetString("Description") ?? "",
        Kind = WireNames.Parse<TaskKind>(e.GetString("Kind")),
        Agent = e.GetString("Agent"),
        State = WireNames.Parse<TaskState>(e.GetString("State")),
        DependsOn = JsonSerializer.Deserialize<List<string>>(e.GetString("DependsOn") ?? "[]") ?? [],
        Prompt = e.GetString("Prompt"),
        Output = output,
        Error = e.GetString("Error"),
        Usage = new TokenUsage(e.GetInt64("InputTokens") ?? 0, e.GetInt64("OutputTokens") ?? 0),
        StartedAt = e.GetDateTimeOffset("StartedAt"),
        CompletedAt = e.GetDateTimeOffset("CompletedAt"),
        ReviewRound = e.GetInt32("ReviewRound") ?? 0,
        Feedback = e.GetString("Feedback"),
        ETag = e.ETag.ToString(),
    };

    static RunRecord ToRun(TableEntity e) => ToRun(e, e.PartitionKey, e.RowKey);

    /// <summary>A run from its run row or its head row (whose keys are the run id and "~run").</summary>
    static RunRecord ToRun(TableEntity e, string accountId, string runId) => new()
    {
        RunId = runId,
        AccountId = accountId,
        Status = WireNames.Parse<RunStatus>(e.GetString("Status")),
        Definition = JsonSerializer.Deserialize<RunDefinition>(e.GetString("Definition") ?? "null")
            ?? throw new InvalidOperationException($"Run {e.RowKey} has no definition."),
        Error = e.GetString("Error"),
        Usage = new TokenUsage(e.GetInt64("InputTokens") ?? 0, e.GetInt64("OutputTokens") ?? 0),
        PlannedBy = e.GetString("PlannedBy"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
    };
}
