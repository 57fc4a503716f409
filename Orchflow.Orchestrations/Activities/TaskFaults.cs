namespace Orchflow.Activities;

static class TaskFaults
{
    /// <summary>
    /// A task that may never be awaited: its fault, should it end in one, is observed here, so it is not reported as
    /// unobserved; awaiting it still throws.
    /// </summary>
    public static Task<T> Observed<T>(this Task<T> task)
    {
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return task;
    }
}
