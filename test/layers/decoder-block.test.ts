import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ConfigError} from '../../src/errors.js';
import {DecoderBlock, type DecoderBlockArgs, defaultFfnHidden} from '../../src/layers/decoder-block.js';
import {disposeKVCache, type KVCache} from '../../src/layers/kv-cache.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {MoE} from '../../src/layers/moe.js';
import {disposeWeights, expectClose, leakedTensors, rand, saveLoadDiff} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

const SMALL: DecoderBlockArgs = {dModel: 8, numHeads: 2, numKvHeads: 1, ffnHidden: 12};

function built(args: DecoderBlockArgs = SMALL): DecoderBlock {
  const block = new DecoderBlock(args);
  block.build([null, 4, args.dModel]);
  return block;
}

describe('DecoderBlock', () => {
  it('is x + attn(norm(x)), then h + ffn(norm(h))', async () => {
    const block = built();
    const x = rand([2, 4, 8]);
    const c = (p: string) => block.sublayers().get(p)!;
    const h = tf.add(x, c('attn').apply(c('attn-norm').apply(x)) as tf.Tensor);
    const expected = tf.add(h, c('ffn').apply(c('ffn-norm').apply(h)) as tf.Tensor);
    await expectClose(block.apply(x) as tf.Tensor, expected, 1e-6);
    expect((block.apply(tf.input({shape: [6, 8]})) as tf.SymbolicTensor).shape).toEqual([null, 6, 8]);
  });

  it('names every weight by its path', () => {
    const block = new DecoderBlock({...SMALL, name: 'block0'});
    block.build([null, 4, 8]);
    expect(block.weights.map((w) => w.originalName)).toEqual([
      'block0/attn-norm/scale',
      'block0/attn/q/kernel',
      'block0/attn/k/kernel',
      'block0/attn/v/kernel',
      'block0/attn/o/kernel',
      'block0/ffn-norm/scale',
      'block0/ffn/gate/kernel',
      'block0/ffn/up/kernel',
      'block0/ffn/down/kernel',
    ]);
    expect(block.countParams()).toBe(8 + 64 + 32 + 32 + 64 + 8 + 3 * 8 * 12);
  });

  it('cached decoding equals the full forward', async () => {
    const block = built({...SMALL, numHeads: 4, numKvHeads: 2});
    const x = rand([1, 5, 8], 3) as tf.Tensor3D;
    const full = block.apply(x) as tf.Tensor;
    let cache: KVCache | null = null;
    const steps: tf.Tensor[] = [];
    for (const [start, size] of [
      [0, 2],
      [2, 1],
      [3, 2],
    ] as const) {
      const step: {output: tf.Tensor3D; cache: KVCache} = block.callWithCache(
        x.slice([0, start, 0], [-1, size, -1]),
        cache,
      );
      disposeKVCache(cache);
      cache = step.cache;
      steps.push(step.output);
    }
    expect(cache!.keys.shape).toEqual([1, 2, 5, 2]); // [batch, kvHeads, positions, headDim]
    await expectClose(full, tf.concat(steps, 1), 1e-5);
    disposeKVCache(cache);
  });

  it('LoRA targets by path reach the attention and FFN projections', () => {
    const block = built({...SMALL, lora: {rank: 2, targets: ['attn/q', 'attn/v', 'ffn/down']}});
    const attn = block.sublayers().get('attn') as DecoderBlock;
    expect(attn.sublayers().get('q')).toBeInstanceOf(LoRADense);
    expect(attn.sublayers().get('k')).not.toBeInstanceOf(LoRADense);
    expect((block.sublayers().get('ffn') as DecoderBlock).sublayers().get('down')).toBeInstanceOf(LoRADense);
    expect(block.loraSites()).toEqual([
      'attn/q',
      'attn/k',
      'attn/v',
      'attn/o',
      'ffn/gate',
      'ffn/up',
      'ffn/down',
    ]);
  });

  it('rejects bad configs naming the argument and range', () => {
    expect(() => new DecoderBlock({dModel: 10, numHeads: 4})).toThrow(
      /^DecoderBlock: numHeads \(4\) must divide dModel \(10\)/,
    );
    expect(() => new DecoderBlock({dModel: 8, numHeads: 2, attnDropout: 1})).toThrow(
      /^DecoderBlock: attnDropout must be in \[0, 1\), got 1/,
    );
    expect(() => new DecoderBlock({dModel: 8, numHeads: 4, numKvHeads: 3})).toThrow(ConfigError);
    // biome-ignore lint/suspicious/noExplicitAny: an invalid kind on purpose
    expect(() => new DecoderBlock({dModel: 8, numHeads: 2, ffn: 'sparse' as any})).toThrow(
      /unknown ffn 'sparse' — use one of dense, moe/,
    );
    expect(() => new DecoderBlock({dModel: 8, numHeads: 2, ffn: 'moe'})).toThrow(/needs moe arguments/);
    expect(() => new DecoderBlock({dModel: 8, numHeads: 2, ffnHidden: 0})).toThrow(/ffnHidden must be/);
    expect(() => new DecoderBlock({dModel: 8, numHeads: 2, lora: {rank: 1, targets: ['ffn/x']}})).toThrow(
      /lora target 'ffn\/x'/,
    );
  });

  it('defaults the SwiGLU width to 8/3·d rounded up to a multiple of 8', () => {
    expect(defaultFfnHidden(96)).toBe(256);
    expect(new DecoderBlock({dModel: 8, numHeads: 2}).ffnHidden).toBe(24);
  });

  it('config round trips with every argument', () => {
    const args = {
      dModel: 8,
      numHeads: 2,
      numKvHeads: 1,
      ffn: 'dense',
      ffnHidden: 16,
      moe: null,
      normEps: 1e-5,
      rope: false,
      ropeTheta: 1000,
      useBias: true,
      attnDropout: 0.1,
      residDropout: 0.2,
      lora: {rank: 2, alpha: 2, rslora: false, dropout: 0, targets: ['attn/v']},
    } as const;
    const config = new DecoderBlock({
      ...args,
      lora: {...args.lora, targets: [...args.lora.targets]},
    }).getConfig();
    expect(config).toMatchObject(args);
    expect(DecoderBlock.fromConfig(DecoderBlock, config).getConfig()).toEqual(config);
  });

  it('save → load in the tfjs format gives identical predictions', async () => {
    expect(await saveLoadDiff(new DecoderBlock(SMALL), [5, 8])).toBe(0);
    const withLoRA = new DecoderBlock({
      ...SMALL,
      useBias: true,
      lora: {rank: 2, targets: ['attn/q', 'ffn/up']},
    });
    expect(await saveLoadDiff(withLoRA, [5, 8])).toBe(0);
  });

  it('a stack of blocks trains with fit', async () => {
    const input = tf.input({shape: [4, 8]});
    let h = input;
    for (let i = 0; i < 2; i++) {
      h = new DecoderBlock({...SMALL, name: `block${i}`, residDropout: 0.1}).apply(h) as tf.SymbolicTensor;
    }
    const model = tf.model({inputs: input, outputs: h});
    expect(model.trainableWeights).toHaveLength(18);
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = rand([16, 4, 8], 1);
    const y = tf.tidy(() => tf.reverse(x, 2));
    const history = await model.fit(x, y, {epochs: 10, verbose: 0});
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    tf.dispose([x, y]);
    model.dispose();
  });

  describe('with a MoE feed-forward', () => {
    const MOE: DecoderBlockArgs = {
      ...SMALL,
      ffn: 'moe',
      moe: {numExperts: 4, topK: 2, expertHidden: 6, numShared: 1},
    };

    it('holds the MoE as its ffn child, with path-named weights and its aux loss', () => {
      const block = new DecoderBlock({...MOE, name: 'b'});
      block.build([null, 4, 8]);
      expect(block.sublayers().get('ffn')).toBeInstanceOf(MoE);
      const names = block.weights.map((w) => w.originalName);
      expect(names).toContain('b/ffn/router/kernel');
      expect(names).toContain('b/ffn/experts/gate');
      expect(names).toContain('b/ffn/shared/down');
      expect(new Set(names).size).toBe(names.length);
      expect(block.losses.length).toBeGreaterThan(0);
      const experts = ['gate', 'up', 'down'].map((p) => `ffn/experts/${p}`);
      const shared = ['gate', 'up', 'down'].map((p) => `ffn/shared/${p}`);
      expect(block.loraSites()).toEqual(['attn/q', 'attn/k', 'attn/v', 'attn/o', ...experts, ...shared]);
    });

    it('checks the MoE arguments at construction', () => {
      expect(() => new DecoderBlock({...MOE, moe: {numExperts: 2, topK: 3, expertHidden: 4}})).toThrow(
        ConfigError,
      );
      expect(() => new DecoderBlock({...MOE, lora: {rank: 1, targets: ['ffn/up']}})).toThrow(
        /lora target 'ffn\/up'/,
      );
    });

    it('cached decoding equals the full forward', async () => {
      const block = built(MOE);
      const x = rand([1, 4, 8], 9) as tf.Tensor3D;
      const full = block.apply(x) as tf.Tensor;
      const [head, tail] = tf.split(x, [3, 1], 1) as tf.Tensor3D[];
      const first = block.callWithCache(head!);
      const second = block.callWithCache(tail!, first.cache);
      await expectClose(full, tf.concat([first.output, second.output], 1), 1e-5);
    });

    it('config and save → load round trip; fit trains with the aux loss', async () => {
      const config = new DecoderBlock(MOE).getConfig();
      expect(config.moe).toMatchObject({numExperts: 4, topK: 2, expertHidden: 6, numShared: 1});
      expect(DecoderBlock.fromConfig(DecoderBlock, config).getConfig()).toEqual(config);
      expect(await saveLoadDiff(new DecoderBlock(MOE), [4, 8])).toBe(0);
      const input = tf.input({shape: [4, 8]});
      const model = tf.model({
        inputs: input,
        outputs: new DecoderBlock(MOE).apply(input) as tf.SymbolicTensor,
      });
      model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
      const x = rand([8, 4, 8], 1);
      const history = await model.fit(x, tf.reverse(x, 2), {epochs: 5, verbose: 0});
      const losses = history.history.loss as number[];
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    });
  });

  it('leaks no tensors', async () => {
    const block = built({...SMALL, residDropout: 0.1, attnDropout: 0.1});
    const x = rand([1, 4, 8]) as tf.Tensor3D;
    const leaked = await leakedTensors(() => {
      tf.dispose(block.apply(x, {training: true}) as tf.Tensor);
      const [head, tail] = tf.split(x, [3, 1], 1) as tf.Tensor3D[];
      const first = block.callWithCache(head!);
      const second = block.callWithCache(tail!, first.cache);
      tf.dispose([head!, tail!, first.output, second.output]);
      disposeKVCache(first.cache);
      disposeKVCache(second.cache);
      // The fused q/k/v kernel of cached decoding lives until released (or the block is disposed).
      block.releaseDecodeWeights();
    });
    expect(leaked).toBe(0);
    tf.dispose(x);
    disposeWeights(block);
  });
});
