// ouroboros llm serve: one local GGUF model behind the two chat protocols the project speaks.
//
//   POST /api/chat               Ollama: {model, messages, stream: false, format, options}
//   POST /v1/chat/completions    OpenAI-compatible: {model, messages, max_tokens, temperature,
//                                response_format: {type: "json_schema", json_schema: {schema}}}
//   GET  /health                 {"status": "ok", model, threads, busy, served}
//   GET  /api/tags, /v1/models   the one model, so clients that list models find it
//
// Promises: one generation at a time (others wait in a bounded queue, 503 past it); a client
// that hangs up (its timeout) stops its generation, or drops it from the queue, so a slow answer
// nobody waits for never delays the next request; a request
// body over 1 MiB is 413, bad JSON or a bad field 400, a schema the grammar cannot express 400;
// a JSON schema constrains the answer by grammar (enum, lengths, required, additionalProperties:
// integer bounds are NOT enforced here, the caller validates); never streams. Prebuilt CPU
// binaries only (build: "never"): a missing binary is an error at start, never a compile.
// Arguments: --model PATH --port N [--host 127.0.0.1] [--threads 1] [--context 2048].

import http from "node:http";
import path from "node:path";
import {getLlama, LlamaChatSession} from "node-llama-cpp";

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_WAITING = 16;
const MAX_TOKENS_LIMIT = 4096;

function parseArgs(argv) {
    const args = {host: "127.0.0.1", port: 11434, threads: 1, context: 2048, model: ""};
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        const value = argv[i + 1];
        if (!(key in args) || value === undefined) {
            console.error(`error: unknown or incomplete argument ${argv[i]}`);
            process.exit(2);
        }
        args[key] = typeof args[key] === "number" ? Number(value) : value;
    }
    if (!args.model) {
        console.error("error: --model PATH is required");
        process.exit(2);
    }
    return args;
}

class BadRequest extends Error {
    constructor(message, status = 400) {
        super(message);
        this.status = status;
    }
}

const args = parseArgs(process.argv.slice(2));
const modelName = path.basename(args.model).replace(/\.gguf$/i, "");
const started = Date.now();
const llama = await getLlama({build: "never", gpu: false, logLevel: "error", maxThreads: args.threads});
const model = await llama.loadModel({modelPath: args.model});
const context = await model.createContext({contextSize: args.context, threads: args.threads, sequences: 1});
const sequence = context.getSequence();
const grammars = new Map(); // canonical schema text -> grammar (schemas repeat: enrich, votes)
let busy = false;
let waiting = 0;
let served = 0;
let chain = Promise.resolve();

class ClientGone extends Error {}

function exclusive(work, signal) {
    if (waiting >= MAX_WAITING) throw new BadRequest("the server is busy: too many requests waiting", 503);
    waiting += 1;
    const run = chain.then(async () => {
        waiting -= 1;
        if (signal.aborted) throw new ClientGone("the client left before its turn");
        busy = true;
        try {
            return await work();
        } finally {
            busy = false;
            served += 1;
        }
    });
    chain = run.catch(() => undefined);
    return run;
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on("data", (chunk) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
                reject(new BadRequest(`the request body is over ${MAX_BODY_BYTES} bytes`, 413));
                req.destroy();
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => {
            try {
                resolve(JSON.parse(Buffer.concat(chunks).toString("utf8") || "null"));
            } catch (error) {
                reject(new BadRequest(`the request body is not JSON: ${error.message}`));
            }
        });
        req.on("error", reject);
    });
}

function messagesOf(body) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new BadRequest("the body must be a JSON object");
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest("messages must be a non-empty list");
    for (const m of messages) {
        if (!m || typeof m.content !== "string" || !["system", "user", "assistant"].includes(m.role)) {
            throw new BadRequest("each message needs a role (system, user, assistant) and a string content");
        }
    }
    if (messages[messages.length - 1].role !== "user") throw new BadRequest("the last message must be the user's");
    return messages;
}

function numberIn(value, low, high, fallback, what) {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
        throw new BadRequest(`${what} must be a number from ${low} to ${high}`);
    }
    return value;
}

async function grammarFor(schema) {
    if (schema === undefined || schema === null || schema === "") return undefined;
    if (schema === "json") return llama.getGrammarFor("json");
    if (typeof schema !== "object" || Array.isArray(schema)) throw new BadRequest("the schema must be a JSON object");
    const key = JSON.stringify(schema);
    if (!grammars.has(key)) {
        try {
            grammars.set(key, await llama.createGrammarForJsonSchema(schema));
        } catch (error) {
            throw new BadRequest(`the schema cannot be used as a grammar: ${error.message}`);
        }
    }
    return grammars.get(key);
}

async function generate(messages, {grammar, maxTokens, temperature, signal}) {
    const system = messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
    const turns = messages.filter((m) => m.role !== "system");
    const history = system ? [{type: "system", text: system}] : [];
    for (const m of turns.slice(0, -1)) {
        history.push(m.role === "user" ? {type: "user", text: m.content} : {type: "model", response: [m.content]});
    }
    await sequence.clearHistory();
    const before = sequence.tokenMeter.getState();
    const session = new LlamaChatSession({contextSequence: sequence, autoDisposeSequence: false});
    try {
        if (history.length) session.setChatHistory(history);
        const t0 = Date.now();
        const text = await session.prompt(turns[turns.length - 1].content, {
            grammar,
            maxTokens,
            temperature,
            signal,
            stopOnAbortSignal: true,
        });
        const after = sequence.tokenMeter.getState();
        return {
            text,
            tokensIn: after.usedInputTokens - before.usedInputTokens,
            tokensOut: after.usedOutputTokens - before.usedOutputTokens,
            ms: Date.now() - t0,
        };
    } finally {
        session.dispose({disposeSequence: false});
    }
}

async function ollamaChat(body, signal) {
    const messages = messagesOf(body);
    if (body.stream === true) throw new BadRequest("streaming is not supported: send stream: false");
    const options = body.options ?? {};
    if (typeof options !== "object") throw new BadRequest("options must be an object");
    const grammar = await grammarFor(body.format);
    const maxTokens = numberIn(options.num_predict, 1, MAX_TOKENS_LIMIT, 512, "options.num_predict");
    const temperature = numberIn(options.temperature, 0, 2, 0.8, "options.temperature");
    const out = await exclusive(() => generate(messages, {grammar, maxTokens, temperature, signal}), signal);
    return {
        model: typeof body.model === "string" && body.model ? body.model : modelName,
        created_at: new Date().toISOString(),
        message: {role: "assistant", content: out.text},
        done: true,
        done_reason: "stop",
        prompt_eval_count: out.tokensIn,
        eval_count: out.tokensOut,
        total_duration: out.ms * 1e6,
    };
}

async function openaiChat(body, signal) {
    const messages = messagesOf(body);
    if (body.stream === true) throw new BadRequest("streaming is not supported: send stream: false");
    let schema;
    const format = body.response_format;
    if (format !== undefined && format !== null) {
        if (format.type === "json_schema") {
            schema = format.json_schema?.schema;
            if (schema === undefined) throw new BadRequest("response_format.json_schema.schema is required");
        } else if (format.type === "json_object") {
            schema = "json";
        } else if (format.type !== "text") {
            throw new BadRequest(`response_format.type ${JSON.stringify(format.type)} is not supported`);
        }
    }
    const grammar = await grammarFor(schema);
    const maxTokens = numberIn(body.max_tokens ?? body.max_completion_tokens, 1, MAX_TOKENS_LIMIT, 512, "max_tokens");
    const temperature = numberIn(body.temperature, 0, 2, 0.8, "temperature");
    const out = await exclusive(() => generate(messages, {grammar, maxTokens, temperature, signal}), signal);
    return {
        id: `chatcmpl-${served}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: typeof body.model === "string" && body.model ? body.model : modelName,
        choices: [{index: 0, message: {role: "assistant", content: out.text}, finish_reason: "stop"}],
        usage: {prompt_tokens: out.tokensIn, completion_tokens: out.tokensOut, total_tokens: out.tokensIn + out.tokensOut},
    };
}

function send(res, status, payload) {
    const text = JSON.stringify(payload);
    res.writeHead(status, {"content-type": "application/json", "content-length": Buffer.byteLength(text)});
    res.end(text);
}

const routes = {
    "GET /health": async () => ({status: "ok", model: modelName, threads: args.threads, busy, waiting, served}),
    "GET /": async () => ({status: "ok", model: modelName}),
    "GET /api/tags": async () => ({models: [{name: modelName, model: modelName}]}),
    "GET /v1/models": async () => ({object: "list", data: [{id: modelName, object: "model", owned_by: "local"}]}),
    "POST /api/chat": async (req, signal) => ollamaChat(await readBody(req), signal),
    "POST /v1/chat/completions": async (req, signal) => openaiChat(await readBody(req), signal),
};

const server = http.createServer(async (req, res) => {
    const route = routes[`${req.method} ${(req.url ?? "/").split("?")[0]}`];
    if (!route) {
        send(res, 404, {error: `no route ${req.method} ${req.url}`});
        return;
    }
    const hangUp = new AbortController();
    res.on("close", () => {
        if (!res.writableEnded) hangUp.abort(new ClientGone("the client hung up"));
    });
    try {
        const answer = await route(req, hangUp.signal);
        if (!hangUp.signal.aborted) send(res, 200, answer);
    } catch (error) {
        if (error instanceof ClientGone || hangUp.signal.aborted) return;
        const status = error instanceof BadRequest ? error.status : 500;
        if (status === 500) console.error(`error: ${error.stack ?? error}`);
        if (!res.headersSent) send(res, status, {error: String(error.message ?? error)});
    }
});
server.headersTimeout = 10_000;
server.requestTimeout = 0; // a generation on a loaded machine may take minutes: the client bounds it

function stop() {
    server.close();
    Promise.resolve(context.dispose())
        .then(() => model.dispose())
        .finally(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.on("error", (error) => {
    console.error(`error: cannot listen on ${args.host}:${args.port}: ${error.message}`);
    process.exit(2);
});
server.listen(args.port, args.host, () => {
    const port = server.address().port;
    // one line on stdout that the parent reads: where it listens and how long the model took
    console.log(JSON.stringify({event: "ready", host: args.host, port, model: modelName, threads: args.threads, ready_ms: Date.now() - started}));
});
