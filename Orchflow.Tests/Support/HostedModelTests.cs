namespace Orchflow.Tests.Support;

/// <summary>
/// A hosted fixture whose host calls a loopback model server of its own: the server starts before the host (the
/// fixture's settings point at it), answers as <see cref="Cooperative"/> at the start of each test, and stops with the
/// fixture. Each test ends with the host at rest, so a run one test left going never meets the next test's answers.
/// </summary>
public abstract class HostedModelTests : HostedTests
{
    protected FakeChatServer ModelServer { get; private set; } = null!;

    /// <summary>How the model answers unless a test answers some calls itself.</summary>
    protected abstract CooperativeModel Cooperative { get; }

    protected override bool EachTestEndsAtRest => true;

    protected override async Task BeforeHostStartsAsync() => ModelServer = await FakeChatServer.StartAsync();

    [SetUp]
    public void AnswerAsTheCooperativeModel()
    {
        ModelServer.Reset();
        ModelServer.Responder = Cooperative.Answer;
    }

    [OneTimeTearDown]
    public async Task StopModelServerAsync()
    {
        if (ModelServer is not null)
        {
            await ModelServer.DisposeAsync();
        }
    }
}
