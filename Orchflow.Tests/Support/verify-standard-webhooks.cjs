// Verifies webhook deliveries with the Standard Webhooks reference library (npm standardwebhooks), as a receiver
// would. Reads [{"secret", "body", "headers"}] as JSON on stdin; writes [{"ok": true} | {"ok": false, "error"}].
const path = require("node:path");
const { Webhook } = require(path.join(__dirname, "..", "..", "tools", "node_modules", "standardwebhooks"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", chunk => (input += chunk));
process.stdin.on("end", () => {
    const results = JSON.parse(input).map(({ secret, body, headers }) => {
        try {
            new Webhook(secret).verify(body, headers);
            return { ok: true };
        } catch (e) {
            return { ok: false, error: String(e && e.message ? e.message : e) };
        }
    });
    process.stdout.write(JSON.stringify(results));
});
