#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// ONNX Runtime (onnxruntime-node) peer runner for bench/run_peers.py.
//
//   node ort_bench.js MODEL INPUT.f32 SHAPE [--runs N] [--warmup K]
//                     [--threads T] [--dump DIR]
//
// INPUT.f32 is raw little-endian float32 data of SHAPE (e.g. 1x128x128x3),
// fed to the model's single input. Runs K warm-up then N timed runs with
// T intra-op threads and 1 inter-op thread (sequential execution), prints
// one JSON object: median_ms, min_ms, p90_ms, mean_ms, runs, load_ms,
// ort_version. --dump DIR writes each output as DIR/<i>.f32 plus
// DIR/outputs.json (names and shapes) so outputs can be compared.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function die(msg) {
  process.stderr.write('ort_bench: error: ' + msg + '\n');
  process.exit(1);
}

function parseArgs(argv) {
  const a = {runs: 20, warmup: 3, threads: 2, dump: null, pos: []};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--runs') a.runs = parseInt(argv[++i], 10);
    else if (k === '--warmup') a.warmup = parseInt(argv[++i], 10);
    else if (k === '--threads') a.threads = parseInt(argv[++i], 10);
    else if (k === '--dump') a.dump = argv[++i];
    else if (k.startsWith('--')) die('unknown option ' + k);
    else a.pos.push(k);
  }
  if (a.pos.length !== 3) die('usage: ort_bench.js MODEL INPUT.f32 SHAPE [--runs N] [--warmup K] [--threads T] [--dump DIR]');
  return a;
}

function percentile(sorted, p) {
  // nearest-rank on the sorted list
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const [model, inputFile, shapeStr] = a.pos;
  const dims = shapeStr.split('x').map((v) => parseInt(v, 10));
  const count = dims.reduce((x, y) => x * y, 1);
  const buf = fs.readFileSync(inputFile);
  if (buf.length !== 4 * count) die(`${inputFile}: ${buf.length} bytes, want ${4 * count} for ${shapeStr}`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));

  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (session.inputNames.length !== 1) die(`${model}: ${session.inputNames.length} inputs, want 1`);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, dims)};

  let out;
  for (let i = 0; i < a.warmup; i++) out = await session.run(feeds);
  const times = [];
  for (let i = 0; i < a.runs; i++) {
    const s = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  if (!out) out = await session.run(feeds);
  const sorted = [...times].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;

  if (a.dump) {
    fs.mkdirSync(a.dump, {recursive: true});
    const meta = [];
    session.outputNames.forEach((name, i) => {
      const t = out[name];
      fs.writeFileSync(path.join(a.dump, `${i}.f32`), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      meta.push({name, dims: t.dims});
    });
    fs.writeFileSync(path.join(a.dump, 'outputs.json'), JSON.stringify(meta));
  }
  let version = null;
  try {
    version = require('onnxruntime-node/package.json').version;
  } catch (e) { /* not fatal */ }
  process.stdout.write(JSON.stringify({
    median_ms: median,
    min_ms: sorted[0],
    p90_ms: percentile(sorted, 0.9),
    mean_ms: times.reduce((x, y) => x + y, 0) / Math.max(1, times.length),
    runs: times.length,
    warmup: a.warmup,
    threads: a.threads,
    load_ms: loadMs,
    ort_version: version,
  }) + '\n');
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
