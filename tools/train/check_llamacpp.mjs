// check_llamacpp.mjs -- cross-check a GGUF written by train_llama.py against real llama.cpp (the npm package
// node-llama-cpp 3.22.1, prebuilt CPU binaries; see /work/shared/bench/llamacpp_peer.mjs for the setup):
//   cd DIR_WITH_node_modules && node /work/main/tools/train/check_llamacpp.mjs MODEL.gguf STRINGS.json \
//       [--prompt "ROMEO:"] [--n 100]
// STRINGS.json is a JSON array of strings. Prints one JSON object: llama.cpp's token ids for each string
// (BOS prepended when the model asks for it, as llama.cpp's tokenize with add_special does) and the greedy
// (temperature 0) continuation of the prompt: ids (prompt included) and text.
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";
import fs from "node:fs";
import path from "node:path";

async function importNodeLlamaCpp() {
    try {
        return await import("node-llama-cpp");
    } catch (e) {
        if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
        for (const base of [process.cwd(), process.env.NODE_LLAMA_CPP_DIR].filter(Boolean)) {
            try {
                const req = createRequire(path.join(path.resolve(base), "noop.js"));
                return await import(pathToFileURL(req.resolve("node-llama-cpp")).href);
            } catch (e2) { /* next */ }
        }
        throw new Error("node-llama-cpp not found (run from the folder where it is installed or set NODE_LLAMA_CPP_DIR)");
    }
}
const {getLlama, LlamaLogLevel} = await importNodeLlamaCpp();

const args = process.argv.slice(2);
let prompt = "ROMEO:", n = 100;
const pos = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--prompt") prompt = args[++i];
    else if (args[i] === "--n") n = Number(args[++i]);
    else pos.push(args[i]);
}
if (pos.length < 2) {
    console.error("usage: node check_llamacpp.mjs MODEL.gguf STRINGS.json [--prompt TEXT] [--n N]");
    process.exit(2);
}
const [modelPath, stringsPath] = pos;
const strings = JSON.parse(fs.readFileSync(stringsPath, "utf8"));

const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
    progressLogs: false, maxThreads: 1, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const bos = (model.tokens.bos != null && model.tokens.shouldPrependBosToken) ? [model.tokens.bos] : [];
const tokenizations = strings.map(s => bos.concat(Array.from(model.tokenize(s, false))));

const context = await model.createContext({contextSize: 512, threads: {ideal: 1, min: 1}, flashAttention: false});
const seq = context.getSequence();
const promptIds = bos.concat(Array.from(model.tokenize(prompt, false)));
const gen = [];
if (n > 0) {
    for await (const tok of seq.evaluate(promptIds, {temperature: 0, yieldEogToken: true})) {
        gen.push(tok);
        if (gen.length >= n) break;
    }
}
console.log(JSON.stringify({tokenizations, prompt_ids: promptIds, greedy_ids: promptIds.concat(gen),
    greedy_text: prompt + model.detokenize(gen, false, promptIds)}));
await context.dispose(); await model.dispose(); await llama.dispose();
