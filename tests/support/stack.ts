import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Source } from '../../src/protocols/source';
import { startAppServer } from '../../server/app-server.js';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';
import { startComfyuiPlatform } from '../../server/comfyui/platform.js';
import { startImagegenPlatform } from '../../server/imagegen/platform.js';
import { startSmartforgePlatform } from '../../server/smartforge/platform.js';
import { startTakossPlatform } from '../../server/takoss/platform.js';

export const DIST = path.resolve(import.meta.dirname, '../../dist');

export type Platform = Awaited<ReturnType<typeof startCodebegenPlatform>>;

export type Wire = 'upstream' | 'guide';

interface StackOptions {
  /** what the demo platforms send: as the platforms' own code does (default), or as their guides describe */
  wire?: Wire;
  codebegen?: Parameters<typeof startCodebegenPlatform>[0];
  takoss?: Parameters<typeof startTakossPlatform>[0];
  smartforge?: Parameters<typeof startSmartforgePlatform>[0];
  imagegen?: Parameters<typeof startImagegenPlatform>[0];
  comfyui?: Parameters<typeof startComfyuiPlatform>[0];
}

/** The five demo platforms (in one wire variant; ComfyUI has only its own) and the built dashboard, all on 127.0.0.1, as npm start runs them. */
export async function startStack(options: StackOptions = {}) {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  const requestLog: string[] = [];
  const log = (line: string) => requestLog.push(line);
  const wire = options.wire ?? 'upstream';
  const platform = await startCodebegenPlatform({ wire, ...options.codebegen, log });
  const takoss = await startTakossPlatform({ wire, ...options.takoss, log });
  const smartforge = await startSmartforgePlatform({ wire, ...options.smartforge, log });
  const imagegen = await startImagegenPlatform({ wire, ...options.imagegen, log });
  const comfyui = await startComfyuiPlatform({ ...options.comfyui, log });
  const apps: Awaited<ReturnType<typeof startAppServer>>[] = [];

  /**
   * the five demo sources, with the given tokens (the platforms' own by default), read as
   * `npm start` reads them: through each platform's own listings, and the demo's listing where
   * the platform (in this variant) lists no running jobs. `listed: false` leaves the demo's out.
   */
  function sources(tokens: { codebegen?: string; takoss?: string; imagegen?: string } = {}, { listed = true } = {}): Source[] {
    const demoListing = (url: string, platformListsRunning: boolean) => (listed && (wire === 'guide' || !platformListsRunning) ? { discoveryUrl: url } : {});
    return [
      {
        id: 'codebegen-demo',
        name: 'CodeBegen (demo)',
        kind: 'codebegen',
        baseUrl: platform.url,
        token: tokens.codebegen ?? platform.devToken,
        ...demoListing(`${platform.url}/demo/generations`, true),
        heartbeatMs: (options.codebegen as { heartbeatMs?: number } | undefined)?.heartbeatMs,
      },
      {
        id: 'takoss-demo',
        name: 'Takoss (demo)',
        kind: 'takoss',
        baseUrl: takoss.url,
        token: tokens.takoss ?? takoss.devToken,
        ...demoListing(`${takoss.url}/demo/projects`, false),
      },
      {
        id: 'smartforge-demo',
        name: 'Smart Forge (demo)',
        kind: 'smartforge',
        baseUrl: smartforge.url,
        token: (smartforge as { devToken?: string }).devToken,
        ...demoListing(`${smartforge.url}/demo/projects`, true),
        heartbeatMs: (options.smartforge as { heartbeatMs?: number } | undefined)?.heartbeatMs,
      },
      {
        id: 'imagegen-demo',
        name: 'Image generation (demo)',
        kind: 'imagegen',
        baseUrl: imagegen.url,
        token: tokens.imagegen ?? imagegen.devToken,
        ...demoListing(`${imagegen.url}/demo/tasks`, false),
        heartbeatMs: (options.imagegen as { keepAliveMs?: number } | undefined)?.keepAliveMs,
      },
      { id: 'comfyui-demo', name: 'ComfyUI (demo)', kind: 'comfyui', baseUrl: comfyui.url },
    ];
  }

  /** a dashboard whose sources carry the given tokens (the platforms' own by default) and budget */
  async function app(tokens: { codebegen?: string; takoss?: string; imagegen?: string } = {}, extra: { maxStreams?: number } = {}) {
    const server = await startAppServer({ root: DIST, sources: async () => JSON.stringify(sources(tokens).map((source) => ({ ...source, ...extra }))) });
    apps.push(server);
    return server.url;
  }
  return {
    wire,
    platform,
    takoss,
    smartforge,
    imagegen,
    comfyui,
    requestLog,
    sources,
    appUrl: await app(),
    /** another dashboard whose CodeBegen source carries the given token */
    appWithToken: (token: string) => app({ codebegen: token }),
    appWithTokens: app,
    /** CSP violations any dashboard's browser reported since the last call */
    takeCspReports: () => apps.flatMap((server) => server.cspReports.splice(0)),
    /** another dashboard with its own stream budget per source */
    appWithBudget: (maxStreams: number) => app({}, { maxStreams }),
    async close() {
      await Promise.all(apps.map((server) => server.close()));
      await Promise.all([platform.close(), takoss.close(), smartforge.close(), imagegen.close(), comfyui.close()]);
    },
  };
}
