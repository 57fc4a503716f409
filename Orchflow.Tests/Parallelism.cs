using Orchflow.Tests.Support;

// Fixtures marked [Parallelizable] (the hosted ones, and the durability fixtures with hosts of their own) run two at a
// time; every other fixture runs alone, as before.
[assembly: LevelOfParallelism(HostedTests.AtOnce)]
