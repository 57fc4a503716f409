namespace Orchflow.Tests.Orchestrators;

/// <summary>Tests on a <see cref="FakeRun"/>: each ends by checking that no write along the way broke the contract's status rule.</summary>
public abstract class FakeRunTests
{
    FakeRun? current;

    /// <summary>The run this test drives; the rule is checked on it when the test ends.</summary>
    protected FakeRun NewRun() => current = new FakeRun();

    [TearDown]
    public void NoWriteBrokeTheStatusRule()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            Assert.That(current?.Violations ?? [], Is.Empty, "the status rule after every write");
        }

        current = null;
    }
}
