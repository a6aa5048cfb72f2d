// A `serve` process for bench/serve.ts: starts the library's server with the options in argv[2]
// (JSON), prints its URL on stdout, and stops on SIGTERM. The benchmark runs the server here, in
// a process of its own, so the load generator does not share its event loop.
import {initBackend, type ServeOptions, startServer} from '../src/index.js';

await initBackend();
const server = await startServer({...(JSON.parse(process.argv[2]!) as ServeOptions), port: 0});
process.stdout.write(`${server.url}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
