using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>What only a browser can check of the console's own code: the Markdown renderer on hostile text, and the SSE parser.</summary>
public sealed partial class ConsoleBrowserTests
{
    [Test]
    public async Task Markdown_HostileOutputs_RenderAsTextWithNoScriptNoHandlerAndNoUnsafeLink()
    {
        string[] hostile =
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click]( javascript:alert(1) )",
            "[click](java\tscript:alert(1))",
            "[click](data:text/html,<script>alert(1)</script>)",
            "[click](vbscript:msgbox(1))",
            "<javascript:alert(1)>",
            "**<b onmouseover=alert(1)>bold</b>**",
            "# <svg onload=alert(1)>",
            "| <iframe src=x> | b |\n|---|---|\n| <a href=javascript:x>y</a> | c |",
            "```\n</code></pre><script>alert(1)</script>\n```",
            "- item <style>body{display:none}</style>\n  - nested <object data=x>",
            "> quote <form action=x><button>go</button></form>",
            "`<script>` in code",
            "![img](x\" onerror=\"alert(1))",
            "<a href=\"javascript:alert(1)\">plain html link</a>",
        ];
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var rendered = await RenderAsync(tab.Page, hostile);

        var allowedTags = new HashSet<string> { "p", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a", "span", "br", "hr", "table", "thead", "tbody", "tr", "th", "td", "div" };
        Assert.Multiple(() =>
        {
            for (var i = 0; i < hostile.Length; i++)
            {
                var r = rendered[i];
                Assert.That(r.Tags.Where(t => !allowedTags.Contains(t)), Is.Empty, $"elements made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.StartsWith("on", StringComparison.OrdinalIgnoreCase)), Is.Empty, $"handlers made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.Contains("script", StringComparison.OrdinalIgnoreCase) || a.StartsWith("href=data", StringComparison.OrdinalIgnoreCase)),
                    Is.Empty, $"attributes made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.StartsWith("href=", StringComparison.Ordinal) && !a.StartsWith("href=http", StringComparison.Ordinal)),
                    Is.Empty, $"links made from {hostile[i]}");
            }

            Assert.That(rendered[0].Text, Is.EqualTo("<script>alert(1)</script>"), "HTML stays visible text");
            Assert.That(rendered[2].Text, Is.EqualTo("click"), "an unsafe link keeps its words, not its target");
            Assert.That(rendered[12].Text, Does.Contain("<script>alert(1)</script>"));
        });

        var safe = await RenderAsync(tab.Page,
        [
            "# Title\n\nSome **bold**, *emphasis*, `code` and a [link](https://example.com/a?b=1).\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n" +
            "| option | price |\n|---|---:|\n| A | $5 |\n\n> quoted\n\n```js\nlet x = 1;\n```\n\n---\n\nsnake_case_name stays.",
        ]);
        Assert.Multiple(() =>
        {
            Assert.That(safe[0].Tags, Is.SupersetOf(new[] { "h3", "p", "strong", "em", "code", "a", "ul", "ol", "li", "table", "th", "td", "blockquote", "pre", "hr" }));
            Assert.That(safe[0].Attributes, Does.Contain("href=https://example.com/a?b=1"));
            Assert.That(safe[0].Text, Does.Contain("snake_case_name stays."));
        });

        // A renderer quadratic in this text would take minutes: the time limit is a guard against a hang, set far above
        // the moment a linear one takes, and the test asserts only that the text was rendered whole.
        var hostileLength = await tab.Page.EvaluateAsync<int>(@"async () => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { renderMarkdown } = await import(base + 'markdown.js');
            const text = '*a _b [c `d <e **f '.repeat(12000) + '\n' + '- '.repeat(20000) + '\n' + '> '.repeat(20000);
            const box = document.createElement('div');
            box.append(renderMarkdown(text));
            return box.textContent.length;
        }").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(hostileLength, Is.GreaterThan(100_000), "hostile text of 300 kB renders, its words all there");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task SseParser_ChunksSplitAnywhere_GiveTheSameEventsAsTheWholeStream()
    {
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var result = await tab.Page.EvaluateAsync<JsonElement>(@"async () => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { SseParser } = await import(base + 'stream.js');
            const text = 'id: 1\nevent: run.queued\ndata: {""sequence"":1}\n\n: ping\n\nid: 2\r\nevent: task.started\r\ndata: {""a"":\r\ndata: 1}\r\n\r\n' +
                'data:no space\rid:3\r\r: ping\n\nevent: ignored-without-data\n\nid: 4\ndata: last\n\n';
            const parse = (chunks) => {
                const events = [];
                let comments = 0;
                const parser = new SseParser(e => events.push(e), () => { comments += 1; });
                chunks.forEach(c => parser.push(c));
                return JSON.stringify({ events, comments });
            };
            const whole = parse([text]);
            const differing = [];
            for (let i = 1; i < text.length; i++) {
                if (parse([text.slice(0, i), text.slice(i)]) !== whole) differing.push(i);
            }
            const byChar = parse([...text]);
            return { whole: JSON.parse(whole), differing, byChar: byChar === whole };
        }");
        var events = result.GetProperty("whole").GetProperty("events").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.GetProperty("differing").GetArrayLength(), Is.Zero, "a chunk boundary anywhere changes nothing");
            Assert.That(result.GetProperty("byChar").GetBoolean(), Is.True, "one character at a time changes nothing");
            Assert.That(events.Select(e => e.GetProperty("data").GetString()), Is.EqualTo(new[] { "{\"sequence\":1}", "{\"a\":\n1}", "no space", "last" }));
            Assert.That(events.Select(e => e.GetProperty("id").GetString()), Is.EqualTo(new[] { "1", "2", "3", "4" }));
            Assert.That(events.Select(e => e.GetProperty("type").GetString()), Is.EqualTo(new[] { "run.queued", "task.started", "message", "message" }));
            Assert.That(result.GetProperty("whole").GetProperty("comments").GetInt32(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task LiveTexts_PiecesGoAtTheirOffset_OffsetZeroWritesAnew_AGapOrAPieceOfAnotherShapeIsNotTaken()
    {
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var result = await tab.Page.EvaluateAsync<JsonElement>(@"async () => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { LiveTexts } = await import(base + 'live-output.js');
            const heard = [];
            const live = new LiveTexts(writing => heard.push([...writing].join(',')));
            const section = live.view('T1', { heading: 'Writing now', label: 'Text T1 is writing' });
            const box = section.querySelector('.live-text');
            const steps = [];
            const step = (what, taken) => steps.push({ what, taken, shown: box.textContent, hidden: section.hidden, nodes: box.childNodes.length });
            step('before any text', null);
            step('first piece', live.apply({ task_id: 'T1', offset: 0, text: 'Hello ' }));
            step('next piece', live.apply({ task_id: 'T1', offset: 6, text: 'world' }));
            const tail = box.querySelector('.live-tail');
            const first = tail.firstChild;
            step('text so far again, on reconnecting', live.apply({ task_id: 'T1', offset: 0, text: 'Hello world, again' }));
            const kept = tail.firstChild === first;
            step('a piece after a gap', live.apply({ task_id: 'T1', offset: 50, text: 'lost' }));
            step('a piece over the end', live.apply({ task_id: 'T1', offset: 3, text: 'p!' }));
            step('written anew', live.apply({ task_id: 'T1', offset: 0, text: 'Anew' }));
            step('no offset', live.apply({ task_id: 'T1', text: 'x' }));
            step('negative offset', live.apply({ task_id: 'T1', offset: -1, text: 'x' }));
            step('text not a string', live.apply({ task_id: 'T1', offset: 4, text: 5 }));
            live.apply({ task_id: null, offset: 0, text: 'Final' });
            const writingWithFinal = [...live.writing()].join(',');
            const final = live.writingFinal();
            live.follow({ type: 'task.completed', task_id: 'T1', sequence: 9 });
            step('task completed: still shown until drawn anew', null);
            step('a retry writes from offset 0', live.apply({ task_id: 'T1', offset: 0, text: 'Second' }));
            step('a paragraph ends', live.apply({ task_id: 'T1', offset: 6, text: '\n\n**Bold** so' }));
            const formatted = [...box.querySelector('.markdown').children].map(e => e.localName + ':' + e.textContent);
            step('another ends', live.apply({ task_id: 'T1', offset: 19, text: ' far\n\nnext' }));
            const formattedThen = [...box.querySelector('.markdown').children].map(e => e.localName + ':' + e.textContent + ':' + e.querySelectorAll('strong').length);
            return { steps, kept, heard, writingWithFinal, final, formatted, formattedThen, length: box.dataset.length };
        }");
        var steps = result.GetProperty("steps").EnumerateArray()
            .Select(s => (What: s.GetProperty("what").GetString(), Taken: s.GetProperty("taken").ValueKind == JsonValueKind.Null ? (bool?)null : s.GetProperty("taken").GetBoolean(),
                Shown: s.GetProperty("shown").GetString(), Hidden: s.GetProperty("hidden").GetBoolean()))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(steps.Select(s => (s.What, s.Taken, s.Shown, s.Hidden)), Is.EqualTo(new (string?, bool?, string?, bool)[]
            {
                ("before any text", null, "", true),
                ("first piece", true, "Hello ", false),
                ("next piece", true, "Hello world", false),
                ("text so far again, on reconnecting", true, "Hello world, again", false),
                ("a piece after a gap", false, "Hello world, again", false),
                ("a piece over the end", true, "Help!", false),
                ("written anew", true, "Anew", false),
                ("no offset", false, "Anew", false),
                ("negative offset", false, "Anew", false),
                ("text not a string", false, "Anew", false),
                ("task completed: still shown until drawn anew", null, "Anew", false),
                ("a retry writes from offset 0", true, "Second", false),
                ("a paragraph ends", true, "Second**Bold** so", false),
                ("another ends", true, "SecondBold so farnext", false),
            }));
            Assert.That(result.GetProperty("formatted").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "p:Second" }),
                "a finished paragraph is formatted; the one being written is not yet");
            Assert.That(result.GetProperty("formattedThen").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "p:Second:0", "p:Bold so far:1" }));
            Assert.That(result.GetProperty("length").GetString(), Is.EqualTo("Second\n\n**Bold** so far\n\nnext".Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                "the box says how long the text is, as written");
            Assert.That(result.GetProperty("kept").GetBoolean(), Is.True, "the text so far sent again only adds what is new: nothing shown is drawn again");
            Assert.That(result.GetProperty("writingWithFinal").GetString(), Is.EqualTo("T1"), "the synthesis is no task");
            Assert.That(result.GetProperty("final").GetBoolean(), Is.True);
            Assert.That(result.GetProperty("heard").EnumerateArray().Select(h => h.GetString()), Is.EqualTo(new[] { "T1", "T1", "", "T1" }),
                "told when a text starts or stops, not at every piece");
        });
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task EditedToolArguments_OnlyAJsonObjectIsSent()
    {
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var result = await tab.Page.EvaluateAsync<JsonElement>(@"async (inputs) => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { parseArguments } = await import(base + 'tool-calls.js');
            return inputs.map(text => parseArguments(text)).map(r => r.problem ?? JSON.stringify(r.value));
        }", new[] { "{\"url\": \"https://example.com/\"}", " { } ", "null", "[1, 2]", "\"text\"", "42", "{\"url\": ", "" });
        var answers = result.EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(answers[0], Is.EqualTo("{\"url\":\"https://example.com/\"}"));
            Assert.That(answers[1], Is.EqualTo("{}"));
            Assert.That(answers.Skip(2).Take(4), Has.All.StartWith("The arguments must be a JSON object"));
            Assert.That(answers.Skip(6), Has.All.StartWith("This is not JSON: "));
        });
        AssertNoPageProblems(tab);
    }

    sealed record Rendered(string Text, IReadOnlyList<string> Tags, IReadOnlyList<string> Attributes);

    static async Task<IReadOnlyList<Rendered>> RenderAsync(IPage page, IReadOnlyList<string> inputs)
    {
        var result = await page.EvaluateAsync<JsonElement>(@"async (inputs) => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { renderMarkdown } = await import(base + 'markdown.js');
            return inputs.map(text => {
                const box = document.createElement('div');
                box.append(renderMarkdown(text));
                const all = [...box.querySelectorAll('*')];
                return { text: box.textContent, tags: all.map(e => e.localName), attributes: all.flatMap(e => [...e.attributes].map(a => a.name + '=' + a.value)) };
            });
        }", inputs);
        return result.EnumerateArray().Select(r => new Rendered(
            r.GetProperty("text").GetString()!,
            r.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList(),
            r.GetProperty("attributes").EnumerateArray().Select(a => a.GetString()!).ToList())).ToList();
    }
}
