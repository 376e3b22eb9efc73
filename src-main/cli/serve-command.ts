/** `studio serve`: the engine as the runner of the data folder, behind the loopback server, until Ctrl-C. */
import { intOption } from './args.ts';
import type { CommandContext } from './commands.ts';
import { vramOption } from './commands.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loopbackBindAddress } from './http-guard.ts';
import { startServer } from './serve.ts';

export async function serveCommand(ctx: CommandContext): Promise<number> {
  const { values, global } = ctx.line;
  const port = intOption(values, 'port', 0, 65_535) ?? 0;
  const host = typeof values.host === 'string' ? values.host : undefined;
  if (loopbackBindAddress(host) === null) {
    throw new UsageError(
      `--host must be a loopback address (127.0.0.1, ::1 or localhost), not ${JSON.stringify(host)}: studio serve never listens on the network`,
      '--host',
    );
  }
  const engine = await ctx.openEngine({ role: 'runner', frontDoor: 'serve', vramBudgetMb: vramOption(values) });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(engine, { port, ...(host ? { host } : {}) });
  } catch (e) {
    await engine.close();
    throw e;
  }
  // performance.now() counts from process start: this is the time a user waits for the URL.
  const readyMs = Math.round(performance.now());
  const info = { url: server.url, openUrl: server.openUrl, token: server.token, port: server.port, dataDir: engine.dataDir, readyMs };
  if (global.json) ctx.io.stdout.write(`${JSON.stringify(info)}\n`);
  else {
    ctx.io.stdout.write(
      [
        `OurVidz Studio is serving ${engine.dataDir}`,
        `  open   ${server.openUrl}`,
        `  API    POST ${server.url}/api/<channel>  (Authorization: Bearer ${server.token})`,
        `  events ${server.url.replace('http:', 'ws:')}/api/events?token=${server.token}`,
        `ready in ${readyMs} ms. Only this machine can connect; the token changes every launch. Ctrl-C stops.`,
        '',
      ].join('\n'),
    );
  }
  const signal = await ctx.io.untilStopped();
  if (!global.json) ctx.io.stderr.write(`${signal}: stopping the server and the engine\n`);
  await server.close();
  await engine.close();
  return EXIT.ok;
}
