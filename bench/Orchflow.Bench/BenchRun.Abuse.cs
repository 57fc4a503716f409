using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>How long the clients of each abuse load start runs, before the drain (the load's own window in a smoke run).</summary>
    TimeSpan AbuseWindow => options.Smoke ? options.LoadWindow : TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often each well-behaved client reads its run: once a second, a quarter of the load phase's rate, so the host
    /// is loaded by the clients' runs more than by their polls.
    /// </summary>
    TimeSpan AbusePollInterval => options.Smoke ? options.LoadPollInterval : TimeSpan.FromSeconds(1);

    /// <summary>The abusive account's concurrent loops, per kind of flood.</summary>
    internal const int StartFloods = 6, StreamFloods = 40, KeyFloods = 4;

    /// <summary>
    /// The load phase's clients (every account following the public docs' loop) twice on fresh hosts at the default
    /// limits: alone, then beside one abusive account that floods starts, opens streams past its quota and sends invented
    /// keys, none of it waiting on <c>Retry-After</c>. Issue 25's target: the other accounts' p99 stays within 2×.
    /// </summary>
    async Task AbusePhaseAsync(CancellationToken cancellationToken)
    {
        AbuseLoad? alone = null, beside = null;
        await WithHostAsync(LoadModelLatencyMs, async (host, _, token) => alone = await AbuseLoadAsync(host, abusive: false, token), cancellationToken, LoadSettings);
        await WithHostAsync(LoadModelLatencyMs, async (host, _, token) => beside = await AbuseLoadAsync(host, abusive: true, token), cancellationToken, LoadSettings);
        results.Abuse = new AbuseResult(alone!, beside!);
        Say($"abuse: others' p99 {beside!.Requests.Latency.P99:0} ms beside the abuser against {alone!.Requests.Latency.P99:0} ms alone " +
            $"({results.Abuse.P99Ratio:0.00}×); run to completed p99 {beside.ToCompleted.P99:0} against {alone.ToCompleted.P99:0} ms; " +
            $"the abuser: {string.Join(", ", beside.Abuser.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} × {p.Value}"))}");
    }

    async Task<AbuseLoad> AbuseLoadAsync(OrchflowHost host, bool abusive, CancellationToken cancellationToken)
    {
        var traffic = new ApiTraffic();
        var api = OrchflowApi.For(host.BaseAddress, traffic);
        var keys = await Task.WhenAll(Enumerable.Range(0, options.LoadAccounts).Select(_ => api.RegisterAsync(cancellationToken)));
        var ledger = new LoadLedger(this, AbuseWindow, LoadDrainLimit, AbusePollInterval);
        var abuser = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var stopAbuse = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var abuse = abusive ? await StartAbuseAsync(host.BaseAddress, abuser, stopAbuse.Token) : Task.CompletedTask;
        Say($"abuse: {keys.Length * options.LoadClientsPerAccount} clients over {keys.Length} accounts for {AbuseWindow.TotalSeconds:0} s, " +
            $"polling every {AbusePollInterval.TotalMilliseconds:0} ms" +
            (abusive ? $", beside one account flooding starts ({StartFloods} loops), streams ({StreamFloods}) and invented keys ({KeyFloods})" : ", alone"));

        ledger.Start(traffic.Elapsed);
        var clients = Task.WhenAll(keys.SelectMany(key => Enumerable.Range(0, options.LoadClientsPerAccount)
            .Select(_ => Task.Run(() => LoadClientAsync(api, key, ledger, cancellationToken), cancellationToken))));
        await Task.WhenAny(clients, Task.Delay(AbuseWindow, cancellationToken));
        // The flood lasts the window; the drain that follows is the other clients' alone.
        await stopAbuse.CancelAsync();
        await abuse;
        await clients;

        var inWindow = traffic.Snapshot().Where(e => e.At >= ledger.WindowStart && e.At < ledger.WindowEnd).ToList();
        return new AbuseLoad(RouteFigures.Of("others", inWindow), ledger.ToWaiting, ledger.ToCompleted, ledger.StartedCount, ledger.CompletedInWindow,
            ledger.Errors.Count, new Dictionary<string, int>(abuser));
    }

    /// <summary>Registers the abusive account, starts one run to watch, and lets its floods loose; the task ends when they are stopped.</summary>
    async Task<Task> StartAbuseAsync(Uri api, ConcurrentDictionary<string, int> counts, CancellationToken stop)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = api, Timeout = Timeout.InfiniteTimeSpan };
        var key = await new OrchflowApi(http).RegisterAsync(stop);
        var run = await new OrchflowApi(http).StartRunAsync(key, options.HumanGoal, [HumanTopic], stop);

        void Count(string what, int status) => counts.AddOrUpdate($"{what} {status}", 1, (_, n) => n + 1);

        async Task Loop(Func<Task> step)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await step();
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                }
                catch (HttpRequestException)
                {
                    counts.AddOrUpdate("no answer", 1, (_, n) => n + 1);
                }
            }
        }

        async Task StartOne()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "runs") { Content = JsonContent.Create(new { task = options.HumanGoal }) };
            request.Headers.Add(OrchflowApi.Header, key);
            using var response = await http.SendAsync(request, stop);
            Count("POST /runs", (int)response.StatusCode);
        }

        async Task HoldStream()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{run.RunId}/events");
            request.Headers.Add(OrchflowApi.Header, key);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            Count("GET /events", (int)response.StatusCode);
            if (response.IsSuccessStatusCode)
            {
                // Held open, read as it comes, until the flood stops.
                await using var body = await response.Content.ReadAsStreamAsync(stop);
                var buffer = new byte[4096];
                while (await body.ReadAsync(buffer, stop) > 0)
                {
                }
            }
        }

        async Task InventKey()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "runs");
            request.Headers.Add(OrchflowApi.Header, $"orch_{Guid.NewGuid():N}{Guid.NewGuid():N}");
            using var response = await http.SendAsync(request, stop);
            Count("invented key", (int)response.StatusCode);
        }

        var loops = Enumerable.Range(0, StartFloods).Select(_ => Loop(StartOne))
            .Concat(Enumerable.Range(0, StreamFloods).Select(_ => Loop(HoldStream)))
            .Concat(Enumerable.Range(0, KeyFloods).Select(_ => Loop(InventKey)))
            .ToList();
        return Task.WhenAll(loops).ContinueWith(_ => http.Dispose(), TaskScheduler.Default);
    }
}
