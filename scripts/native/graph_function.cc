// deepseek-kit's addition to tfjs-node's binding: registers a TensorFlow graph as a function in the
// binding's own eager context, so one executeOp(name, [], inputIds, nOutputs) runs the whole graph
// through TensorFlow's function runtime (Grappler, in-place buffer forwarding, no per-op dispatch).
// scripts/native-backend.mjs copies this file into binding/ and adds it to binding.gyp's sources.
#include <node_api.h>

#include <cstring>
#include <string>
#include <vector>

#include "tensorflow/c/c_api.h"
#include "tensorflow/c/eager/c_api.h"
#include "tfjs_backend.h"

namespace {

void Throw(napi_env env, const std::string &message) {
  napi_throw_error(env, nullptr, ("registerGraphFunction: " + message).c_str());
}

bool GetString(napi_env env, napi_value value, std::string *out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out->resize(length);
  return napi_get_value_string_utf8(env, value, &(*out)[0], length + 1, &length) == napi_ok;
}

bool GetStrings(napi_env env, napi_value array, std::vector<std::string> *out) {
  uint32_t length = 0;
  if (napi_get_array_length(env, array, &length) != napi_ok) return false;
  out->resize(length);
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !GetString(env, item, &(*out)[i])) return false;
  }
  return true;
}

// "node:index" (or "node", index 0) as an output of an operation in `graph`.
bool FindOutput(TF_Graph *graph, const std::string &spec, TF_Output *out) {
  const size_t colon = spec.rfind(':');
  const std::string name = colon == std::string::npos ? spec : spec.substr(0, colon);
  const int index = colon == std::string::npos ? 0 : std::stoi(spec.substr(colon + 1));
  TF_Operation *op = TF_GraphOperationByName(graph, name.c_str());
  if (op == nullptr) return false;
  *out = TF_Output{op, index};
  return true;
}

}  // namespace

namespace tfnodejs {

// registerGraphFunction(name, graphDef: Uint8Array, inputs: string[], outputs: string[],
//                       controlOutputs: string[]): imports the serialized GraphDef, turns it into the
// function `name` whose arguments are `inputs` ("node:index") and results `outputs`, with the
// operations named in `controlOutputs` guaranteed to run, and adds it to the eager context.
napi_value RegisterGraphFunction(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc < 5) {
    Throw(env, "expected (name, graphDef, inputs, outputs, controlOutputs)");
    return nullptr;
  }
  std::string name;
  std::vector<std::string> inputs, outputs, controls;
  void *data = nullptr;
  size_t byte_length = 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset = 0;
  if (!GetString(env, args[0], &name) ||
      napi_get_typedarray_info(env, args[1], &type, &byte_length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array || !GetStrings(env, args[2], &inputs) ||
      !GetStrings(env, args[3], &outputs) || !GetStrings(env, args[4], &controls)) {
    Throw(env, "bad arguments: (string, Uint8Array, string[], string[], string[]) expected");
    return nullptr;
  }
  void *instance = nullptr;
  if (napi_get_instance_data(env, &instance) != napi_ok || instance == nullptr) {
    Throw(env, "the binding has no backend");
    return nullptr;
  }
  TFE_Context *context = static_cast<TFJSBackend *>(instance)->context();

  TF_Status *status = TF_NewStatus();
  TF_Graph *graph = TF_NewGraph();
  TF_Buffer *graph_def = TF_NewBufferFromString(data, byte_length);
  TF_ImportGraphDefOptions *import_options = TF_NewImportGraphDefOptions();
  TF_Function *function = nullptr;
  std::string error;
  TF_GraphImportGraphDef(graph, graph_def, import_options, status);
  if (TF_GetCode(status) != TF_OK) {
    error = std::string("importing the graph: ") + TF_Message(status);
  } else {
    std::vector<TF_Output> in(inputs.size()), out(outputs.size());
    std::vector<const TF_Operation *> control_ops(controls.size());
    for (size_t i = 0; i < inputs.size() && error.empty(); i++) {
      if (!FindOutput(graph, inputs[i], &in[i])) error = "no input " + inputs[i];
    }
    for (size_t i = 0; i < outputs.size() && error.empty(); i++) {
      if (!FindOutput(graph, outputs[i], &out[i])) error = "no output " + outputs[i];
    }
    for (size_t i = 0; i < controls.size() && error.empty(); i++) {
      control_ops[i] = TF_GraphOperationByName(graph, controls[i].c_str());
      if (control_ops[i] == nullptr) error = "no operation " + controls[i];
    }
    std::vector<const char *> control_names(controls.size());
    for (size_t i = 0; i < controls.size(); i++) control_names[i] = controls[i].c_str();
    if (error.empty()) {
      function = TF_GraphToFunctionWithControlOutputs(
          graph, name.c_str(), 0, -1, nullptr, static_cast<int>(in.size()), in.data(),
          static_cast<int>(out.size()), out.data(), nullptr, static_cast<int>(control_ops.size()),
          control_ops.data(), control_names.data(), nullptr, nullptr, status);
      if (TF_GetCode(status) != TF_OK) error = std::string("making the function: ") + TF_Message(status);
    }
    if (error.empty()) {
      TFE_ContextAddFunction(context, function, status);
      if (TF_GetCode(status) != TF_OK) error = std::string("adding the function: ") + TF_Message(status);
    }
  }
  if (function != nullptr) TF_DeleteFunction(function);
  TF_DeleteImportGraphDefOptions(import_options);
  TF_DeleteBuffer(graph_def);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  if (!error.empty()) {
    Throw(env, error);
    return nullptr;
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

// removeGraphFunction(name): removes a function registerGraphFunction added (and its cached kernels).
napi_value RemoveGraphFunction(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  std::string name;
  void *instance = nullptr;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc < 1 ||
      !GetString(env, args[0], &name) || napi_get_instance_data(env, &instance) != napi_ok ||
      instance == nullptr) {
    napi_throw_error(env, nullptr, "removeGraphFunction: expected a function name");
    return nullptr;
  }
  TF_Status *status = TF_NewStatus();
  TFE_ContextRemoveFunction(static_cast<TFJSBackend *>(instance)->context(), name.c_str(), status);
  const bool ok = TF_GetCode(status) == TF_OK;
  if (!ok) napi_throw_error(env, nullptr, (std::string("removeGraphFunction: ") + TF_Message(status)).c_str());
  TF_DeleteStatus(status);
  if (!ok) return nullptr;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

// opDef(name): the registered OpDef of op `name`, serialized, so the recorder can fill in the type
// attributes eager execution infers from the inputs and a GraphDef must state.
napi_value GetOpDef(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  std::string name;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc < 1 ||
      !GetString(env, args[0], &name)) {
    napi_throw_error(env, nullptr, "opDef: expected an op name");
    return nullptr;
  }
  static TF_Graph *const graph = TF_NewGraph();  // only its op registry is read
  TF_Status *status = TF_NewStatus();
  TF_Buffer *buffer = TF_NewBuffer();
  TF_GraphGetOpDef(graph, name.c_str(), buffer, status);
  napi_value result = nullptr;
  if (TF_GetCode(status) != TF_OK) {
    napi_throw_error(env, nullptr, (std::string("opDef: ") + TF_Message(status)).c_str());
  } else {
    void *bytes = nullptr;
    napi_value array_buffer;
    if (napi_create_arraybuffer(env, buffer->length, &bytes, &array_buffer) == napi_ok) {
      memcpy(bytes, buffer->data, buffer->length);
      napi_create_typedarray(env, napi_uint8_array, buffer->length, array_buffer, 0, &result);
    }
  }
  TF_DeleteBuffer(buffer);
  TF_DeleteStatus(status);
  return result;
}

}  // namespace tfnodejs
