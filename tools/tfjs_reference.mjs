// Run the TF.js CenterNet of @vladmandic/human on prepared inputs: the reference the ONNX file is checked against.
//
//   node tools/tfjs_reference.mjs MODEL_DIR inputs.bin outputs.bin N
//
// inputs.bin: N x 512 x 512 x 3 float32 (little-endian, RGB 0-255); outputs.bin: N x 100 x 6 float32
// (tower_0/detections). Needs the pure-JavaScript TF.js (npm install @tensorflow/tfjs@4.22.0; set
// NODE_PATH to its node_modules), which runs on the CPU backend: slow but the library's own kernels.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs");

const [modelDir, inputsPath, outputsPath, nText] = process.argv.slice(2);
const n = Number(nText);
const model = JSON.parse(readFileSync(join(modelDir, "centernet.json"), "utf8"));
const specs = [];
const buffers = [];
for (const group of model.weightsManifest) {
  specs.push(...group.weights);
  for (const p of group.paths) buffers.push(readFileSync(join(modelDir, p)));
}
const all = Buffer.concat(buffers);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
await tf.setBackend("cpu");
const graph = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: specs, weightData }));

const raw = readFileSync(inputsPath);
const inputs = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
const side = 512 * 512 * 3;
const out = new Float32Array(n * 100 * 6);
for (let i = 0; i < n; i++) {
  const x = tf.tensor4d(inputs.subarray(i * side, (i + 1) * side), [1, 512, 512, 3]);
  const y = await graph.executeAsync(x, "tower_0/detections");
  out.set(await y.data(), i * 600);
  tf.dispose([x, y]);
  console.log(`image ${i + 1} of ${n} done`);
}
writeFileSync(outputsPath, Buffer.from(out.buffer));
