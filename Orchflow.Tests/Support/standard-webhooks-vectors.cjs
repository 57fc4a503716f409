// Test vectors from the Standard Webhooks reference library (npm standardwebhooks): deliveries it signs, then alters in
// the ways a receiver must refuse, each with the library's own verdict. Reads [{"secret", "id", "timestamp", "body",
// "signature"}] (messages another signer made) on stdin and writes {"vectors": [...], "verdicts": [...]}: the library's
// verdict on each of those too.
const path = require("node:path");
const { Webhook } = require(path.join(__dirname, "..", "..", "tools", "node_modules", "standardwebhooks"));

const secretA = "whsec_" + Buffer.from("a secret of at least twenty-four bytes, A").toString("base64");
const secretB = "whsec_" + Buffer.from("another secret of twenty-four bytes, B!!").toString("base64");
const now = Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: "run.completed", timestamp: new Date().toISOString(), data: { run_id: "run_0f3k9tq2zm7c8d1v4x6b" } });

function delivery(name, secret, id, timestamp, payload, signature) {
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    let ok = true;
    let error = null;
    try {
        new Webhook(secret).verify(payload, headers);
    } catch (e) {
        ok = false;
        error = String(e.message || e);
    }
    return { name, secret, headers, body: payload, ok, error };
}

const signed = (secret, id, timestamp, payload) => new Webhook(secret).sign(id, new Date(timestamp * 1000), payload);
const good = signed(secretA, "msg_1", now, body);
const vectors = [
    delivery("signed", secretA, "msg_1", now, body, good),
    delivery("body altered", secretA, "msg_1", now, body.replace("completed", "failed"), good),
    delivery("id altered", secretA, "msg_2", now, body, good),
    delivery("another secret", secretB, "msg_1", now, body, good),
    delivery("rotation, the good signature last", secretA, "msg_1", now, body, signed(secretB, "msg_1", now, body) + " " + good),
    delivery("rotation, neither good", secretA, "msg_1", now, body, signed(secretB, "msg_1", now, body) + " v1,AAAA"),
    delivery("a version other than v1", secretA, "msg_1", now, body, "v2," + good.split(",")[1]),
    delivery("ten minutes old", secretA, "msg_1", now - 600, body, signed(secretA, "msg_1", now - 600, body)),
    delivery("ten minutes ahead", secretA, "msg_1", now + 600, body, signed(secretA, "msg_1", now + 600, body)),
    delivery("four minutes old", secretA, "msg_1", now - 240, body, signed(secretA, "msg_1", now - 240, body)),
    delivery("no signature", secretA, "msg_1", now, body, ""),
    delivery("unicode body", secretA, "msg_3", now, JSON.stringify({ text: "naïve café — 東京" }),
        signed(secretA, "msg_3", now, JSON.stringify({ text: "naïve café — 東京" }))),
];

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", chunk => (input += chunk));
process.stdin.on("end", () => {
    const verdicts = JSON.parse(input || "[]").map(m =>
        delivery("theirs", m.secret, m.id, m.timestamp, m.body, m.signature));
    process.stdout.write(JSON.stringify({ vectors, verdicts }));
});
