#!/usr/bin/env node
// `studio`: OurVidz Studio from the command line. The sources are TypeScript run by Node 24's
// type stripping, so this entry refuses other Node versions with a clear message first.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  process.stderr.write(
    `studio needs Node.js 24 (the runtime Electron 45 embeds); this is Node ${process.versions.node}.\n` +
      'Install Node 24 (https://nodejs.org, or `nvm install 24`) and run it again.\n',
  );
  process.exit(2);
}

const { main } = await import('../src-main/cli/main.ts');
const code = await main(process.argv.slice(2));
// Let piped stdout drain before exiting (writes to pipes are asynchronous on some platforms).
await new Promise((resolve) => process.stdout.write('', resolve));
process.exit(code);
