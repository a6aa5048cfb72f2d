#!/usr/bin/env python3
"""Greedy KV-cached decoding of issue 5's two benchmark models in PyTorch eager or TensorFlow graph.

A bench-side peer for `npm run bench:generate-peers` (bench/generate-peers.ts). It imports the model
definitions and canonical initial weights of the training peers (torch_lm.py / keras_lm.py in the
directory given by --peers; they are not changed) and adds what they lack: a decode loop with a
KV cache. Each layer's weights are the peer model's own; the loop below only reorganises attention
so that each step feeds the new token(s) and reads the cached keys and values.

  * prefill: the prompt [B, P] in one pass, causal, writing its keys/values into the cache;
  * decode: one token per sequence per step, attending over the cache; the next token is the argmax
    of the logits (greedy), read back to the host every step as a sampler would.
  * torch: eager ops under torch.inference_mode(); cache [B, H, Tmax, hd] tensors written in place,
    attention over the filled part by F.scaled_dot_product_attention. The FFN (SwiGLU or the MoE
    with its shared expert and sparse top-2 dispatch) is the peer's module, called on [B, t, D].
  * tf: the step is a tf.function (graph), one trace for the prefill shape and one for a decode
    step; the cache is a tf.Variable [B, H, Tmax, hd] per layer, written by a sliced assign at the
    step's position, attention over all Tmax columns with the unfilled ones masked (-inf). The FFN is
    the peer's Keras layer (SwiGLU, or MoE: tf.where / gather / unsorted_segment_sum dispatch).
Timed: the decode steps after the first sampled token (prefill reported apart), --runs generations
after --warmup untimed ones; tokens/s = B * (new - 1) / decode seconds (median over runs).

Usage: decode_peer.py --peers DIR --framework torch|tf --model dense|moe --batch B
                      [--prompt 32] [--new 96] [--threads 2] [--text FILE] [--runs 3] [--warmup 1]
Prints one JSON line.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--peers", required=True, help="directory with torch_lm.py and keras_lm.py")
ap.add_argument("--framework", choices=["torch", "tf"], required=True)
ap.add_argument("--model", choices=["dense", "moe"], required=True)
ap.add_argument("--batch", type=int, default=1)
ap.add_argument("--prompt", type=int, default=32)
ap.add_argument("--new", type=int, default=96)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--text", default=None, help="prompt bytes: row b reads bytes [P*b, P*(b+1)); default zeros")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--warmup", type=int, default=1)
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.peers))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def prompts():
    P, B = args.prompt, args.batch
    if args.text is None:
        return np.zeros((B, P), np.int32)
    data = np.frombuffer(open(args.text, "rb").read(), np.uint8)
    return np.stack([data[P * b:P * (b + 1)] for b in range(B)]).astype(np.int32)


def torch_generate():
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    import torch_lm as peer
    c = peer.CFG
    model = peer.LM(args.model)
    model.load_canonical(peer.canonical_params(args.model, 0))
    model.eval()
    H, hd, Tmax = c["n_heads"], c["head_dim"], c["seq"]

    def forward(ids, pos, caches):
        # ids [B, t] at positions pos … pos+t-1 → logits [B, vocab] after the last one
        B, t = ids.shape
        x = model.tok_emb(ids) + model.pos_emb[pos:pos + t]
        for blk, (kc, vc) in zip(model.blocks, caches):
            a = blk.attn
            h = blk.norm1(x)
            q, k, v = (w(h).view(B, t, H, hd).transpose(1, 2) for w in (a.wq, a.wk, a.wv))
            kc[:, :, pos:pos + t] = k
            vc[:, :, pos:pos + t] = v
            # a prefill starts at 0, so top-left causal alignment is right; a step sees every key
            o = F.scaled_dot_product_attention(q, kc[:, :, :pos + t], vc[:, :, :pos + t], is_causal=t > 1)
            x = x + a.wo(o.transpose(1, 2).reshape(B, t, H * hd))
            x = x + (blk.moe(blk.norm2(x))[0] if blk.is_moe else blk.ffn(blk.norm2(x)))
        return model.head(model.norm_f(x[:, -1]))

    def generate(batch_ids):
        B = batch_ids.shape[0]
        with torch.inference_mode():
            caches = [(torch.zeros(B, H, Tmax, hd), torch.zeros(B, H, Tmax, hd)) for _ in model.blocks]
            t0 = time.perf_counter()
            nxt = forward(torch.from_numpy(batch_ids), 0, caches).argmax(-1)
            out = [nxt.tolist()]
            t1 = time.perf_counter()
            pos = batch_ids.shape[1]
            for _ in range(args.new - 1):
                nxt = forward(nxt[:, None], pos, caches).argmax(-1)
                out.append(nxt.tolist())
                pos += 1
            t2 = time.perf_counter()
        return t1 - t0, t2 - t1, out

    return generate


def tf_generate():
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras_lm as peer
    c = peer.CFG
    model = peer.LM(peer.canonical_params(args.model, 0), args.model)
    H, hd, Tmax, D = c["n_heads"], c["head_dim"], c["seq"], c["d_model"]
    B = args.batch
    caches = [(tf.Variable(tf.zeros([B, H, Tmax, hd])), tf.Variable(tf.zeros([B, H, Tmax, hd])))
              for _ in model.blocks]
    key_pos = tf.range(Tmax)

    @tf.function(reduce_retracing=True)
    def forward(ids, pos):
        t = tf.shape(ids)[1]
        x = tf.gather(model.emb.tok, ids) + model.emb.pos[pos:pos + t]           # [B, t, D]
        x = tf.reshape(x, [B * t, D])
        # query i (position pos+i) sees keys 0 … pos+i; unfilled columns are masked
        visible = key_pos[None, :] <= (pos + tf.range(t))[:, None]               # [t, Tmax]
        for blk, (kc, vc) in zip(model.blocks, caches):
            a = blk.attn
            h = blk.norm1(x)

            def heads(w):
                return tf.transpose(tf.reshape(tf.matmul(h, w), [B, t, H, hd]), [0, 2, 1, 3])

            q, k, v = heads(a.wq), heads(a.wk), heads(a.wv)
            kc[:, :, pos:pos + t].assign(k)
            vc[:, :, pos:pos + t].assign(v)
            s = tf.matmul(q, kc, transpose_b=True) * (1.0 / math.sqrt(hd))      # [B, H, t, Tmax]
            s = tf.where(visible, s, tf.constant(-np.inf, tf.float32))
            o = tf.matmul(tf.nn.softmax(s, axis=-1), vc)                         # [B, H, t, hd]
            x = x + tf.matmul(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * t, H * hd]), a.wo)
            x = x + (blk.moe(blk.norm2(x))[0] if blk.is_moe else blk.ffn(blk.norm2(x)))
        last = tf.reshape(x, [B, t, D])[:, -1]
        return tf.argmax(tf.matmul(model.norm_f(last), model.head.w), axis=-1, output_type=tf.int32)

    def generate(batch_ids):
        t0 = time.perf_counter()
        nxt = forward(tf.constant(batch_ids), tf.constant(0))
        out = [nxt.numpy().tolist()]
        t1 = time.perf_counter()
        pos = batch_ids.shape[1]
        for _ in range(args.new - 1):
            nxt = forward(nxt[:, None], tf.constant(pos))
            out.append(nxt.numpy().tolist())
            pos += 1
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, out

    return generate


if args.prompt + args.new > 128:
    sys.exit("prompt + new must fit the models' 128 positions")
generate = torch_generate() if args.framework == "torch" else tf_generate()
ids = prompts()
prefill, decode = [], []
tokens = None
for r in range(args.warmup + args.runs):
    p, d, tokens = generate(ids)
    if r >= args.warmup:
        prefill.append(p)
        decode.append(d)
med = statistics.median(decode)
print(json.dumps(dict(
    framework=args.framework, model=args.model, batch=args.batch, prompt=args.prompt, new=args.new,
    kv_cache=True, threads=args.threads, runs=args.runs,
    decode_ms_median=1e3 * med, prefill_ms_median=1e3 * statistics.median(prefill),
    decode_tokens_s=args.batch * (args.new - 1) / med,
    first_tokens=[row[0] for row in tokens[:8]],
)))
