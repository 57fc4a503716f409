using System.Diagnostics;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>The host's settings in the hostile phase: the default caps, and timeouts short enough that a drip ends soon.</summary>
    IReadOnlyDictionary<string, string> HostileSettings => new Dictionary<string, string>(options.HostSettings)
    {
        ["Orchflow__Models__RequestTimeoutSeconds"] = "5",
        ["Orchflow__Models__MaxAttempts"] = "1",
        ["Orchflow__Tools__CallTimeoutMs"] = "5000",
        ["Orchflow__Tools__ConnectTimeoutMs"] = "5000",
    };

    /// <summary>
    /// One tenant's endpoints turned on the shared worker (issue 25): a provider and a tool server answering with a gzip
    /// bomb (2 GiB inflated), a body with no end, a byte a second and a redirect to the metadata address; <c>fetch_url</c>
    /// on the bomb; a tool server listing 1,000 tools. The host's resident memory (VmRSS) is sampled every 20 ms while
    /// each case's run goes, against the host idle after a warm-up run; each case's outcome is what the run or the model
    /// was told.
    /// </summary>
    async Task HostilePhaseAsync(CancellationToken cancellationToken)
    {
        await using var model = await FakeChatServer.StartAsync();
        await using var tools = await LoopbackMcpServer.StartAsync();
        await using var crowded = await LoopbackMcpServer.StartAsync(extraTools: 1000);
        await WithHostAsync(0, async (host, api, token) =>
        {
            var key = await api.RegisterAsync(token);
            var providerId = await api.CreateProviderAsync(key, new Uri(model.BaseUri, "v1").ToString(), token);
            var serverId = await api.RegisterToolServerAsync(key, tools.Url, token);
            var page = new Uri(model.BaseUri, "bomb").ToString();
            Func<ChatRequestRecord, FakeReply> honest = Cooperative;
            model.Responder = honest;

            // Warm-up: every path a case takes (the provider, the tool loop, an MCP session) once, honestly.
            await HostileRunAsync(api, key, providerId, [$"{serverId}/lookup"], token);
            await Task.Delay(TimeSpan.FromSeconds(2), token);
            var idle = await IdleRssAsync(host.Pid, token);
            Say($"hostile: host idle at {idle:0} MiB resident");

            var cases = new List<HostileCase>();
            async Task CaseAsync(string name, Func<Task<string>> run)
            {
                var before = ProcStats.RssMiB(host.Pid);
                using var sampler = new RssSampler(host.Pid);
                var outcome = await run();
                var peak = await sampler.StopAsync();
                model.Responder = honest;
                tools.Honest();
                cases.Add(new HostileCase(name, before, peak, peak - idle, outcome));
                Say($"hostile: {name}: {before:0} MiB resident before, peak {peak:0} MiB ({peak - idle:+0;-0} MiB over idle): {outcome}");
                await Task.Delay(TimeSpan.FromSeconds(1), token);
            }

            // The page fetch_url is sent to is served by the model server too: a gzip bomb.
            Func<ChatRequestRecord, FakeReply> HostileModel(Func<ChatRequestRecord, FakeReply> hostile) =>
                request => request.Path == "/bomb" ? HostileReplies.GzipBomb("text/html") : request.IsSynthesis ? honest(request) : hostile(request);

            async Task<string> ProviderCaseAsync(Func<ChatRequestRecord, FakeReply> hostile)
            {
                model.Responder = HostileModel(hostile);
                var run = await HostileRunAsync(api, key, providerId, [], token);
                return run.Status == "failed" ? run.Error ?? "failed, no error" : $"the run ended {run.Status}";
            }

            async Task<string> ToolCaseAsync(string tool, object arguments, string[] offered)
            {
                model.Responder = HostileModel(request => request.AskedToolCalls.Count == 0
                    ? FakeReply.ToolCall(request.OfferedTools.First(t => t.EndsWith(tool, StringComparison.Ordinal)), arguments)
                    : FakeReply.Chat("Told."));
                var run = await HostileRunAsync(api, key, providerId, offered, token);
                var told = model.Requests.LastOrDefault(r => r.TaskId == "T1" && r.ToolResults.Count > 0)?.ToolResults.Single().Content;
                return $"the run ended {run.Status}; the model was told: {(told is null ? "nothing" : told[..Math.Min(told.Length, 240)])}";
            }

            await CaseAsync("provider: gzip bomb (2 GiB inflated)",
                () => ProviderCaseAsync(r => HostileReplies.GzipBomb(StreamType(r))));
            await CaseAsync("provider: endless streamed completion", () => ProviderCaseAsync(_ => HostileReplies.EndlessCompletion()));
            if (!options.Smoke)
            {
                await CaseAsync("provider: a byte a second", () => ProviderCaseAsync(r => HostileReplies.Drip(StreamType(r), TimeSpan.FromSeconds(1))));
            }

            await CaseAsync("provider: redirect to 169.254.169.254", () => ProviderCaseAsync(_ => HostileReplies.RedirectTo()));

            string[] lookup = [$"{serverId}/lookup"];
            var arguments = new { q = "hostile" };
            tools.OnToolCalls(HostileReplies.GzipBomb("application/json"));
            await CaseAsync("tool server: gzip bomb (2 GiB inflated)", () => ToolCaseAsync("__lookup", arguments, lookup));
            tools.OnToolCalls(HostileReplies.Endless("text/event-stream", ": still here\n"));
            await CaseAsync("tool server: endless event stream", () => ToolCaseAsync("__lookup", arguments, lookup));
            if (!options.Smoke)
            {
                tools.OnToolCalls(HostileReplies.Drip("application/json", TimeSpan.FromSeconds(1)));
                await CaseAsync("tool server: a byte a second", () => ToolCaseAsync("__lookup", arguments, lookup));
            }

            tools.OnToolCalls(HostileReplies.RedirectTo());
            await CaseAsync("tool server: redirect to 169.254.169.254", () => ToolCaseAsync("__lookup", arguments, lookup));
            await CaseAsync("fetch_url: gzip bomb (2 GiB inflated)", () => ToolCaseAsync("fetch_url", new { url = page }, ["fetch_url"]));
            await CaseAsync("tool server listing 1,000 tools: registered, then a call", async () =>
            {
                var crowdedId = await api.RegisterToolServerAsync(key, crowded.Url, token);
                return await ToolCaseAsync("__lookup", arguments, [$"{crowdedId}/lookup"]);
            });

            results.Hostile = new HostileResult(idle, cases);
        }, cancellationToken, HostileSettings);
    }

    /// <summary>The content type a hostile answer claims: an event stream to a streaming request.</summary>
    static string StreamType(ChatRequestRecord request) => request.Stream ? "text/event-stream" : "application/json";

    /// <summary>The editor and each task a short answer; a task offered tools calls the first once.</summary>
    static FakeReply Cooperative(ChatRequestRecord request) =>
        request.IsSynthesis ? FakeReply.Chat("Summed up.")
        : request.AskedToolCalls.Count == 0 && request.OfferedTools.Count > 0 ? FakeReply.ToolCall(request.OfferedTools[0], new { q = "warm" })
        : FakeReply.Chat("Done.");

    /// <summary>One run of the fixed one-task plan on the provider, with <paramref name="tools"/> offered, waited for until it ends.</summary>
    static async Task<RunDto> HostileRunAsync(OrchflowApi api, string key, string providerId, string[] tools, CancellationToken cancellationToken)
    {
        var body = ToolRunBody(new { tools });
        body["provider_id"] = providerId;
        var run = await api.StartRunWithAsync(key, body, cancellationToken);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = await api.GetRunAsync(key, run.RunId, cancellationToken);
            if (now.Status is "completed" or "failed" or "cancelled")
            {
                return now;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException($"Run {run.RunId} did not end within 120 s: {now.Status}.");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The host's resident memory at rest: the median of a second's samples.</summary>
    static async Task<double> IdleRssAsync(int pid, CancellationToken cancellationToken)
    {
        var samples = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            samples.Add(ProcStats.RssMiB(pid));
            await Task.Delay(50, cancellationToken);
        }

        return samples.Order().ElementAt(samples.Count / 2);
    }

    /// <summary>Samples a process's VmRSS every 20 ms until stopped; the highest seen.</summary>
    sealed class RssSampler : IDisposable
    {
        readonly CancellationTokenSource stop = new();
        readonly Task<double> sampling;

        public RssSampler(int pid) => sampling = Task.Run(async () =>
        {
            var peak = 0.0;
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcStats.RssMiB(pid));
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return Math.Max(peak, ProcStats.RssMiB(pid));
        });

        public async Task<double> StopAsync()
        {
            await stop.CancelAsync();
            return await sampling;
        }

        public void Dispose() => stop.Dispose();
    }
}
