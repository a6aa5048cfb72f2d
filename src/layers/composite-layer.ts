import * as tf from '@tensorflow/tfjs';
import {firstShape} from './shapes.js';

type Layer = tf.layers.Layer;
type LayerVariable = tf.LayerVariable;
type Shape = (number | null)[];

/** What tfjs keeps private on Layer but a composite needs to read. */
interface LayerInternals {
  _addedWeightNames?: string[];
}

/** Something that is built from a name plus a LoRA spec: see {@link CompositeLayer.loraSites}. */
export interface HasSublayers {
  /** Child layers by local path (`attn`, `q`...), in build order. */
  sublayers(): ReadonlyMap<string, Layer>;
}

export function hasSublayers(layer: unknown): layer is Layer & HasSublayers {
  return layer instanceof CompositeLayer;
}

/**
 * A layer made of child layers (attention = q/k/v/o projections; a decoder block = norms, attention
 * and FFN). tfjs layers only track their own `addWeight` variables and name them in the name scope
 * of the outermost `apply`, so two child Dense layers would both save as `<block>/kernel`. This base
 * class:
 * - exposes the children's weights through `trainableWeights`/`nonTrainableWeights` (so `fit`,
 *   `save`, `loadWeights`, `countParams` and `dispose` see them), honouring `trainable=false` on
 *   the composite and on each child;
 * - names each child weight by its path, `<layer>/<child>/<grandchild>/<weight>`, whatever scope
 *   the build ran in, so `model.save` → `tf.loadLayersModel` round-trips by name;
 * - forwards fast weight init (used while loading) and layer losses (MoE aux losses) of children.
 * Children are derived from the composite's own config, so `getConfig` never lists them.
 */
export abstract class CompositeLayer extends tf.layers.Layer implements HasSublayers {
  private readonly children = new Map<string, Layer>();
  private fastInit = false;

  sublayers(): ReadonlyMap<string, Layer> {
    return this.children;
  }

  /** Builds `layer` for `inputShape` and adopts it as the child at `path`. Call from `build`. */
  protected addChild<L extends Layer>(path: string, layer: L, inputShape: Shape | Shape[]): L {
    if (this.children.has(path)) throw new Error(`${this.name}: duplicate child '${path}'`);
    if (this.fastInit) layer.setFastWeightInitDuringBuild(true);
    layer.build(inputShape as tf.Shape);
    layer.built = true;
    this.children.set(path, layer);
    return layer;
  }

  /** The composites here map [..., d] to [..., d]; override where that is not so. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return firstShape(inputShape);
  }

  /** Call at the end of `build`, once every child exists: gives each weight its path name. */
  protected nameChildWeights(): void {
    for (const [variable, path] of this.weightPaths()) {
      (variable as {originalName: string}).originalName = `${this.name}/${path}`;
    }
    const seen = new Set<string>();
    for (const w of this.weights) {
      if (seen.has(w.originalName)) throw new Error(`${this.name}: two weights are named ${w.originalName}`);
      seen.add(w.originalName);
    }
  }

  /** Every weight of this layer and its children, with its path relative to this layer. */
  weightPaths(): [LayerVariable, string][] {
    const out: [LayerVariable, string][] = ownWeights(this).map((w) => [w, leafWeightName(this, w)]);
    for (const [path, child] of this.children) {
      const inner: [LayerVariable, string][] =
        child instanceof CompositeLayer
          ? child.weightPaths()
          : child.weights.map((w) => [w, leafWeightName(child, w)]);
      for (const [w, rel] of inner) out.push([w, `${path}/${rel}`]);
    }
    return out;
  }

  override get trainableWeights(): LayerVariable[] {
    if (!this.trainable) return [];
    return [...super.trainableWeights, ...[...this.children.values()].flatMap((c) => c.trainableWeights)];
  }

  override set trainableWeights(weights: LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): LayerVariable[] {
    const children = [...this.children.values()];
    if (!this.trainable) return [...super.nonTrainableWeights, ...children.flatMap((c) => c.weights)];
    return [...super.nonTrainableWeights, ...children.flatMap((c) => c.nonTrainableWeights)];
  }

  override set nonTrainableWeights(weights: LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  override get losses(): Layer['losses'] {
    return [...super.losses, ...[...this.children.values()].flatMap((c) => c.losses)];
  }

  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    this.fastInit = value;
    for (const child of this.children.values()) child.setFastWeightInitDuringBuild(value);
  }
}

function ownWeights(layer: CompositeLayer): LayerVariable[] {
  const children = new Set([...layer.sublayers().values()].flatMap((c) => c.weights));
  return [...layer.trainableWeights, ...layer.nonTrainableWeights].filter((w) => !children.has(w));
}

/**
 * The name a leaf layer gave a weight in `addWeight` (`kernel`, `expert_0/w1`), recovered from the
 * scoped `originalName` by the longest added name it ends with.
 */
function leafWeightName(layer: Layer, w: LayerVariable): string {
  const added = (layer as unknown as LayerInternals)._addedWeightNames ?? [];
  let best: string | undefined;
  for (const name of added) {
    const fits = w.originalName === name || w.originalName.endsWith(`/${name}`);
    if (fits && (best === undefined || name.length > best.length)) best = name;
  }
  return best ?? w.originalName.split('/').at(-1)!;
}
