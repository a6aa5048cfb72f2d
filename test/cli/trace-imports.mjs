// `node --import ./trace-imports.mjs …` appends the URL of every ES module the process resolves to
// the file named by TRACE_IMPORTS (the start-up test checks which commands load tfjs).
import {register} from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    import {appendFileSync} from 'node:fs';
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(${JSON.stringify(process.env.TRACE_IMPORTS)}, result.url + '\\n');
      return result;
    }`)}`,
);
