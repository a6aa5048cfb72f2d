#!/usr/bin/env node
// Postinstall: make the optional @tensorflow/tfjs-node load where TensorFlow's CDN cannot be reached.
//
// tfjs-node's own install script downloads libtensorflow from a CDN; when that fails npm drops the optional
// dependency and the kit falls back to the pure-JS backends. Here we rebuild it from parts that do install:
// the package tarball (npm registry), the TensorFlow C library inside the tensorflow-cpu wheel (pip), and
// npm's bundled node-gyp. A failure only costs speed, so this script never fails the install.
//
//   node scripts/native-backend.mjs          set up tfjs-node if it does not load yet (always exits 0)
//   node scripts/native-backend.mjs --check  print JSON status; exit 0 if tfjs-node loads, else 1
//
// The addon is built with one addition of ours, scripts/native/graph_function.cc: registerGraphFunction,
// which turns a GraphDef into a function of tfjs-node's eager context, removeGraphFunction and opDef
// (src/backend/step-record.ts captures training steps with them; `--check` says `graphFunctions`).
// When the patched build fails the plain binding is built instead; the kit then trains op by op.
//
// Env: DSK_SKIP_NATIVE=1 skips; DSK_LIBTENSORFLOW=DIR uses DIR/{lib/,}libtensorflow*.so.2 + DIR/include;
// the wheel's library is cached in ${XDG_CACHE_HOME:-~/.cache}/deepseek-kit/libtensorflow-<version>.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const TF_VERSION = '2.21.0'; // the tensorflow-cpu wheel our pip index holds; its C API is what tfjs-node binds
const TFJS_NODE = '@tensorflow/tfjs-node';
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));
// The wheel ships libtensorflow_cc; the official C tarballs ship libtensorflow. Either serves as -ltensorflow.
const MAIN_LIBS = ['libtensorflow_cc.so.2', 'libtensorflow.so.2'];
const FRAMEWORK_LIB = 'libtensorflow_framework.so.2';
const C_API_H = 'tensorflow/c/c_api.h';
// The headers binding/*.cc reach from c_api.h (g++ -M): ~1.5 MB instead of the wheel's 287 MB include/.
const HEADER_DIRS = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/'];
// Runs in a child so a crashing or half-built addon cannot take this process down.
const PROBE = `const tf = require('${TFJS_NODE}');
const binding = tf.backend().binding;
console.log(JSON.stringify({backend: tf.getBackend(), tfjsNode: tf.version['tfjs-node'],
  tensorflow: binding.TF_Version, graphFunctions: ['registerGraphFunction', 'removeGraphFunction', 'opDef'].every((f) => typeof binding[f] === 'function'),
  package: require.resolve('${TFJS_NODE}/package.json')}));`;
const GRAPH_FUNCTION_CC = path.join(ROOT, 'scripts', 'native', 'graph_function.cc');

// What tfjs-node requires at load time besides @tensorflow/tfjs-core (traced with a Module._resolveFilename
// hook). npm drops tfjs-node's own copies with the failed optional dependency, so the kit must depend on them.
const RUNTIME_DEPS = ['@tensorflow/tfjs', '@mapbox/node-pre-gyp', 'google-protobuf', 'progress'];

const log = (msg) => console.error(`deepseek-kit: ${msg}`);

/** Runs a command; returns its stdout, or throws with the tail of its output. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts});
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} exited ${r.status}\n${tail}`);
  }
  return r.stdout;
}

/** Whether tfjs-node loads from the package root, with versions and paths when it does. */
function probe() {
  const r = spawnSync(process.execPath, ['-e', PROBE], {cwd: ROOT, encoding: 'utf8'});
  if (r.status !== 0) {
    const lines = `${r.error?.message ?? ''}\n${r.stderr ?? ''}`.split('\n');
    const error = lines.find((l) => /^\w*Error\b/.test(l)) ?? `node exited ${r.status ?? r.signal}`;
    return {loaded: false, error};
  }
  const status = JSON.parse(r.stdout.trim().split('\n').pop());
  const lib = path.join(path.dirname(status.package), 'deps', 'lib', 'libtensorflow.so');
  status.lib = fs.existsSync(lib) ? fs.realpathSync(lib) : null;
  return {loaded: status.backend === 'tensorflow', ...status};
}

/** A folder with lib/<main lib>, lib/<framework lib> and include/tensorflow/c/c_api.h, or null. */
function libtensorflowAt(dir) {
  if (!dir) return null;
  for (const libDir of [path.join(dir, 'lib'), dir]) {
    const main = MAIN_LIBS.find((name) => fs.existsSync(path.join(libDir, name)));
    const include = path.join(dir, 'include');
    const framework = fs.existsSync(path.join(libDir, FRAMEWORK_LIB));
    if (main && framework && fs.existsSync(path.join(include, C_API_H))) return {libDir, main, include};
  }
  return null;
}

/** Downloads the tensorflow-cpu wheel with pip and unpacks its C library into `cacheDir`. */
function fillCache(cacheDir) {
  fs.mkdirSync(path.dirname(cacheDir), {recursive: true});
  // A sibling temp folder renamed into place at the end, so a half-extract never looks complete.
  const tmp = fs.mkdtempSync(`${cacheDir}.tmp-`);
  try {
    const pipArgs = ['download', `tensorflow-cpu==${TF_VERSION}`, '--no-deps', '-d', tmp];
    pipArgs.push('--retries', '0', '--timeout', '10'); // an unreachable index fails in seconds, not minutes
    let pipError;
    for (const [cmd, ...pre] of [['pip'], ['python3', '-m', 'pip']]) {
      try {
        run(cmd, [...pre, ...pipArgs]);
        pipError = null;
        break;
      } catch (err) {
        pipError = err;
      }
    }
    if (pipError) throw pipError;
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip download left no wheel in ${tmp}`);
    const wanted = [...MAIN_LIBS, FRAMEWORK_LIB].map((n) => `tensorflow/${n}`);
    const prefixes = HEADER_DIRS.map((d) => `tensorflow/include/${d}`);
    const out = path.join(tmp, 'x');
    try {
      const py = `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); wanted = set(sys.argv[3].split(',')); prefixes = tuple(sys.argv[4].split(','))
z.extractall(sys.argv[2], [n for n in z.namelist() if n in wanted or n.startswith(prefixes)])`;
      run('python3', ['-c', py, path.join(tmp, wheel), out, wanted.join(','), prefixes.join(',')]);
    } catch {
      // unzip exits 11 for patterns that match nothing (the wheel has no libtensorflow.so.2): that is fine.
      const patterns = [...wanted, ...prefixes.map((p) => `${p}*`)];
      const r = spawnSync('unzip', ['-qo', path.join(tmp, wheel), ...patterns, '-d', out]);
      if (r.error || (r.status !== 0 && r.status !== 11)) {
        throw new Error('neither python3 nor unzip could unpack the wheel');
      }
    }
    fs.rmSync(path.join(tmp, wheel)); // 274 MB we no longer need
    const unpacked = path.join(out, 'tensorflow');
    const staged = path.join(tmp, 'staged');
    fs.mkdirSync(path.join(staged, 'lib'), {recursive: true});
    for (const name of [...MAIN_LIBS, FRAMEWORK_LIB]) {
      const from = path.join(unpacked, name);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(staged, 'lib', name));
    }
    fs.renameSync(path.join(unpacked, 'include'), path.join(staged, 'include'));
    if (!libtensorflowAt(staged)) throw new Error(`tensorflow-cpu ${TF_VERSION} wheel lacks the C library`);
    fs.rmSync(cacheDir, {recursive: true, force: true});
    fs.renameSync(staged, cacheDir);
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

/** The TensorFlow C library to build against: DSK_LIBTENSORFLOW, else the cache, else a fresh pip download. */
function findLibtensorflow() {
  const fromEnv = process.env.DSK_LIBTENSORFLOW;
  if (fromEnv) {
    const found = libtensorflowAt(path.resolve(fromEnv));
    if (!found) throw new Error(`DSK_LIBTENSORFLOW=${fromEnv} has no lib/libtensorflow*.so.2 + include/`);
    log(`using TensorFlow C library from DSK_LIBTENSORFLOW=${fromEnv}`);
    return found;
  }
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const cacheDir = path.join(cacheHome, 'deepseek-kit', `libtensorflow-${TF_VERSION}`);
  const cached = libtensorflowAt(cacheDir);
  if (cached) {
    log(`using cached TensorFlow ${TF_VERSION} C library in ${cacheDir}`);
    return cached;
  }
  log(`fetching tensorflow-cpu==${TF_VERSION} with pip for its C library`);
  fillCache(cacheDir);
  log(`cached TensorFlow C library in ${cacheDir}`);
  return libtensorflowAt(cacheDir);
}

/** Fills `stage` with the tfjs-node package: the installed copy if npm left one, else the registry tarball. */
function unpackTfjsNode(stage, installed) {
  if (fs.existsSync(path.join(installed, 'binding.gyp'))) {
    fs.cpSync(installed, stage, {recursive: true});
    log(`reusing ${TFJS_NODE} files already in node_modules`);
    return;
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const spec = `${TFJS_NODE}@${pkg.optionalDependencies?.[TFJS_NODE] ?? pkg.dependencies?.[TFJS_NODE] ?? '4.22.0'}`;
  // cwd = stage so npm does not read our package.json or workspace settings; no install scripts run.
  const packed = JSON.parse(run('npm', ['pack', spec, '--json', '--pack-destination', stage], {cwd: stage}));
  const tgz = path.join(stage, packed[0].filename);
  run('tar', ['xzf', tgz, '--strip-components=1', '-C', stage]);
  fs.rmSync(tgz);
  log(`unpacked ${packed[0].id} from the npm registry`);
}

/** deps/ as binding.gyp expects: -L deps/lib -ltensorflow -ltensorflow_framework, rpath $ORIGIN/../../deps/lib. */
function linkDeps(stage, tf) {
  const lib = path.join(stage, 'deps', 'lib');
  fs.rmSync(path.join(stage, 'deps'), {recursive: true, force: true});
  fs.mkdirSync(lib, {recursive: true});
  for (const name of [tf.main, FRAMEWORK_LIB]) {
    // Hard links, not symlinks, so clearing the cache does not break the install; copy across filesystems.
    try {
      fs.linkSync(path.join(tf.libDir, name), path.join(lib, name));
    } catch {
      fs.copyFileSync(path.join(tf.libDir, name), path.join(lib, name), fs.constants.COPYFILE_FICLONE);
    }
  }
  // The linker wants the unversioned names; the addon then records each library's SONAME (the .so.2 files).
  fs.symlinkSync(tf.main, path.join(lib, 'libtensorflow.so'));
  fs.symlinkSync(FRAMEWORK_LIB, path.join(lib, 'libtensorflow_framework.so'));
  // Only the compiler reads the headers, so a link to them is enough.
  fs.symlinkSync(tf.include, path.join(stage, 'deps', 'include'));
}

/** npm's own node-gyp: present wherever npm is, unlike a global node-gyp. */
function nodeGypPath() {
  const script = 'node_modules/node-gyp/bin/node-gyp.js';
  const {npm_config_node_gyp: fromNpm, npm_execpath: npmCli} = process.env; // set for lifecycle scripts
  const candidates = [
    fromNpm,
    npmCli && path.resolve(npmCli, '../..', script),
    path.resolve(process.execPath, '../../lib/node_modules/npm', script),
  ];
  const found = candidates.find((p) => p && fs.existsSync(p));
  if (!found) throw new Error("cannot find npm's node-gyp");
  return found;
}

/** A source edit that must match exactly once, so a changed tfjs-node fails loudly instead of half-patched. */
function replaceOnce(file, from, to) {
  const text = fs.readFileSync(file, 'utf8');
  if (text.split(from).length !== 2) throw new Error(`${path.basename(file)} changed: cannot patch it`);
  fs.writeFileSync(file, text.replace(from, to));
}

/** Adds registerGraphFunction (scripts/native/graph_function.cc) to the binding's sources and exports. */
function patchGraphFunctions(stage) {
  restorePackageSources(stage);
  for (const f of BINDING_SOURCES) fs.copyFileSync(path.join(stage, f), path.join(stage, `${f}.orig`));
  fs.copyFileSync(GRAPH_FUNCTION_CC, path.join(stage, 'binding', 'graph_function.cc'));
  replaceOnce(
    path.join(stage, 'binding.gyp'),
    "'binding/tfjs_binding.cc'",
    "'binding/tfjs_binding.cc', 'binding/graph_function.cc'",
  );
  // The function needs the binding's eager context, a private member: one accessor.
  replaceOnce(
    path.join(stage, 'binding', 'tfjs_backend.h'),
    ' public:\n  bool is_gpu_device;',
    ' public:\n  TFE_Context *context() const { return tfe_context_; }\n  bool is_gpu_device;',
  );
  const binding = path.join(stage, 'binding', 'tfjs_binding.cc');
  replaceOnce(
    binding,
    'static napi_value InitTFNodeJSBinding(',
    'napi_value RegisterGraphFunction(napi_env env, napi_callback_info info);\n' +
      'napi_value RemoveGraphFunction(napi_env env, napi_callback_info info);\n' +
      'napi_value GetOpDef(napi_env env, napi_callback_info info);\n\nstatic napi_value InitTFNodeJSBinding(',
  );
  replaceOnce(
    binding,
    '  napi_property_descriptor exports_properties[] = {\n',
    '  napi_property_descriptor exports_properties[] = {\n' +
      '      {"registerGraphFunction", nullptr, RegisterGraphFunction, nullptr, nullptr, nullptr, napi_default, nullptr},\n' +
      '      {"removeGraphFunction", nullptr, RemoveGraphFunction, nullptr, nullptr, nullptr, napi_default, nullptr},\n' +
      '      {"opDef", nullptr, GetOpDef, nullptr, nullptr, nullptr, napi_default, nullptr},\n',
  );
}

/** The binding sources patchGraphFunctions edits; it keeps the package's own as <file>.orig. */
const BINDING_SOURCES = ['binding.gyp', 'binding/tfjs_backend.h', 'binding/tfjs_binding.cc'];

/** Puts back the package's sources where an earlier patched build (a reused node_modules copy) left .orig files. */
function restorePackageSources(stage) {
  for (const f of BINDING_SOURCES) {
    const orig = path.join(stage, `${f}.orig`);
    if (fs.existsSync(orig)) fs.renameSync(orig, path.join(stage, f));
  }
  fs.rmSync(path.join(stage, 'binding', 'graph_function.cc'), {force: true});
}

/** Builds the addon with registerGraphFunction; if that fails, the plain binding. */
function buildPatchedAddon(stage) {
  try {
    patchGraphFunctions(stage);
    buildAddon(stage);
  } catch (err) {
    log(
      `building with registerGraphFunction failed, building the plain binding: ${err.message.split('\n')[0]}`,
    );
    restorePackageSources(stage);
    buildAddon(stage);
  }
}

/** Compiles binding/*.cc into the path @mapbox/node-pre-gyp will look for at require time. */
function buildAddon(stage) {
  // tfjs-node finds its addon with node-pre-gyp's find() on its package.json ('binary' field), so ask it.
  const preGyp = requireFromRoot('@mapbox/node-pre-gyp');
  const bindingPath = preGyp.find(path.join(stage, 'package.json'));
  const napi = /napi-v(\d+)/.exec(bindingPath)?.[1] ?? '8';
  const args = [nodeGypPath(), 'rebuild', `--napi_build_version=${napi}`, '--module_name=tfjs_binding'];
  args.push(`--module_path=${path.dirname(bindingPath)}`);
  // Use the running node's headers when installed beside it (distro packages), since node-gyp would download them.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include/node/node_api.h'))) {
    args.push(`--nodedir=${prefix}`);
  }
  run(process.execPath, args, {cwd: stage});
  if (!fs.existsSync(bindingPath)) throw new Error(`node-gyp built no ${bindingPath}`);
  fs.rmSync(path.join(stage, 'build'), {recursive: true, force: true}); // object files; the addon was copied out
  log(`built ${path.relative(stage, bindingPath)} with node-gyp (N-API ${napi})`);
}

function setUp() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`no offline recipe for ${process.platform}-${process.arch}`);
  }
  const missing = RUNTIME_DEPS.filter((dep) => {
    try {
      return !requireFromRoot.resolve(dep);
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`${TFJS_NODE} needs ${missing.join(', ')} in our dependencies`);
  const tf = findLibtensorflow();
  const scope = path.join(ROOT, 'node_modules', '@tensorflow');
  const dest = path.join(scope, 'tfjs-node');
  fs.mkdirSync(scope, {recursive: true});
  // Staged beside the final folder so the swap is a rename on one filesystem; drop stages of killed runs.
  for (const f of fs.readdirSync(scope)) {
    if (f.startsWith('.tfjs-node-stage-')) fs.rmSync(path.join(scope, f), {recursive: true, force: true});
  }
  const stage = fs.mkdtempSync(path.join(scope, '.tfjs-node-stage-'));
  const old = `${stage}-old`;
  try {
    unpackTfjsNode(stage, dest);
    linkDeps(stage, tf);
    buildPatchedAddon(stage);
    fs.chmodSync(stage, 0o755); // mkdtemp made it owner-only
    if (fs.existsSync(dest)) fs.renameSync(dest, old);
    fs.renameSync(stage, dest);
  } finally {
    fs.rmSync(stage, {recursive: true, force: true});
    fs.rmSync(old, {recursive: true, force: true});
  }
}

function main() {
  const pkgName = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name;
  if (pkgName !== 'deepseek-kit') throw new Error(`${ROOT}/package.json is ${pkgName}, not deepseek-kit`);
  if (process.argv.includes('--check')) {
    const status = probe();
    console.log(JSON.stringify(status, null, 2));
    return status.loaded ? 0 : 1;
  }
  if (process.env.DSK_SKIP_NATIVE === '1') {
    log('DSK_SKIP_NATIVE=1: skipping the native TensorFlow backend');
    return 0;
  }
  const before = probe();
  if (before.loaded && before.graphFunctions) {
    log(`${TFJS_NODE} ${before.tfjsNode} already loads (TensorFlow ${before.tensorflow})`);
    return 0;
  }
  if (before.loaded)
    log(`${TFJS_NODE} ${before.tfjsNode} loads without registerGraphFunction; rebuilding it`);
  else log(`${TFJS_NODE} does not load (${before.error}); setting it up`);
  const started = Date.now();
  setUp();
  const after = probe();
  if (!after.loaded) throw new Error(`${TFJS_NODE} still does not load: ${after.error}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`${TFJS_NODE} ${after.tfjsNode} loads with TensorFlow ${after.tensorflow} (${seconds} s)`);
  if (!after.graphFunctions) log('training steps run op by op: the binding lacks registerGraphFunction');
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  log(`native backend not set up, using the JS backends: ${err.message}`);
  log(
    `to get it: point DSK_LIBTENSORFLOW at a TensorFlow C library (lib/libtensorflow*.so.2 + include/), ` +
      `or configure a pip index that serves tensorflow-cpu==${TF_VERSION} (pip reads it from pip.conf), ` +
      'then run `npm rebuild deepseek-kit`',
  );
  process.exitCode = process.argv.includes('--check') ? 1 : 0;
}
