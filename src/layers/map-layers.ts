import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;
type ConfigDict = tf.serialization.ConfigDict;
type SymbolicTensor = tf.SymbolicTensor;

/**
 * A new layer from `layer`'s config (with `changes` merged in), not yet built and sharing no
 * variables with it: the class rebuilds from its own `getConfig`, as a saved model does.
 */
export function cloneLayer(layer: Layer, changes: ConfigDict = {}): Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) throw new Error(`cloneLayer: class ${layer.getClassName()} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, {...layer.getConfig(), ...changes}) as Layer;
}

/**
 * A functional model with the topology of `model` in which every layer is `replace(layer)`, applied
 * to the replaced inputs with the same call arguments (as Keras's `clone_model` with a clone
 * function). A layer used twice (a tied embedding) is replaced once and applied twice. Input layers
 * are made anew; a Sequential model stays Sequential. Weights are whatever the replacements hold: copy them afterwards where needed.
 */
export function mapLayers(model: tf.LayersModel, replace: (layer: Layer) => Layer): tf.LayersModel {
  if (model instanceof tf.Sequential) {
    // A Sequential model's first layer carries the input shape in its config.
    return tf.sequential({layers: model.layers.map(replace), name: model.name});
  }
  const tensors = new Map<number, SymbolicTensor>();
  for (const input of model.inputs) {
    const fresh = tf.input({shape: input.shape.slice(1), dtype: input.dtype, name: input.sourceLayer.name});
    tensors.set(input.id, fresh);
  }
  const replaced = new Map<Layer, Layer>();
  // nodesByDepth counts depth from the outputs: the inputs' nodes are the deepest.
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of model.nodesByDepth[depth]!) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const inputs = node.inputTensors.map((t) => {
        const mapped = tensors.get(t.id);
        if (!mapped) throw new Error(`mapLayers: input ${t.name} of layer '${layer.name}' is not mapped yet`);
        return mapped;
      });
      let next = replaced.get(layer);
      if (!next) {
        next = replace(layer);
        replaced.set(layer, next);
      }
      const out = next.apply(inputs.length === 1 ? inputs[0]! : inputs, node.callArgs) as
        | SymbolicTensor
        | SymbolicTensor[];
      const outs = Array.isArray(out) ? out : [out];
      for (const [i, t] of node.outputTensors.entries()) tensors.set(t.id, outs[i]!);
    }
  }
  const pick = (t: SymbolicTensor) => tensors.get(t.id)!;
  return tf.model({inputs: model.inputs.map(pick), outputs: model.outputs.map(pick), name: model.name});
}
