import { existsSync } from 'node:fs';
import path from 'node:path';
import { startAppServer } from '../../server/app-server.js';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';

export const DIST = path.resolve(import.meta.dirname, '../../dist');

export type Platform = Awaited<ReturnType<typeof startCodebegenPlatform>>;

/** The demo platform and the built dashboard, both on 127.0.0.1, as npm start runs them. */
export async function startStack(platformOptions: Parameters<typeof startCodebegenPlatform>[0] = {}) {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  const requestLog: string[] = [];
  const platform = await startCodebegenPlatform({ ...platformOptions, log: (line: string) => requestLog.push(line) });
  const apps: { close(): Promise<void> }[] = [];
  async function app(token: string) {
    const sources = [{
      id: 'codebegen-demo',
      name: 'CodeBegen (demo)',
      kind: 'codebegen',
      baseUrl: platform.url,
      token,
      discoveryUrl: `${platform.url}/demo/generations`,
    }];
    const server = await startAppServer({ root: DIST, sources: async () => JSON.stringify(sources) });
    apps.push(server);
    return server.url;
  }
  return {
    platform,
    requestLog,
    appUrl: await app(platform.devToken),
    /** another dashboard whose source carries the given token */
    appWithToken: app,
    async close() {
      await Promise.all(apps.map((server) => server.close()));
      await platform.close();
    },
  };
}
