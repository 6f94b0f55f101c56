import type { CDPSession, Page } from 'playwright-core';

/** What the browser's feed worker sent and logged: Playwright's page events see none of it, the DevTools protocol does. */
export interface FeedWorkerTraffic {
  /** every URL it asked for (requests and sockets) */
  requests: string[];
  /** the bodies of the responses whose URL `keepBody` chose */
  bodies: { url: string; body: string }[];
  console: string[];
  stop(): Promise<void>;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown> & {
    request?: { url: string };
    response?: { url: string };
    requestId?: string;
    url?: string;
    args?: { value?: unknown; description?: string }[];
  };
  result?: { body?: string; base64Encoded?: boolean };
}

/**
 * Watches the feed worker of `page`'s browser (context) from before it starts: call before the
 * page first opens the dashboard. Its requests and console lines are collected as they come.
 */
export async function watchFeedWorker(page: Page, keepBody: (url: string) => boolean = () => false): Promise<FeedWorkerTraffic> {
  const cdp: CDPSession = await page.context().browser()!.newBrowserCDPSession();
  const traffic: FeedWorkerTraffic = { requests: [], bodies: [], console: [], stop: () => cdp.detach().catch(() => undefined) };
  let nextId = 1;
  const calls = new Map<number, (message: CdpMessage) => void>();
  const urls = new Map<string, string>();
  const call = (sessionId: string, method: string, params: object = {}) =>
    new Promise<CdpMessage>((resolve) => {
      const id = nextId++;
      calls.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(() => resolve({}));
    });
  cdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => {
    const parsed = JSON.parse(message) as CdpMessage;
    if (parsed.id !== undefined) return calls.get(parsed.id)?.(parsed);
    const params = parsed.params ?? {};
    switch (parsed.method) {
      // the worker of a tab that navigated starts again, held for the debugger that watched the last one
      case 'Inspector.targetReloadedAfterCrash':
        void call(sessionId, 'Network.enable')
          .then(() => call(sessionId, 'Runtime.enable'))
          .then(() => call(sessionId, 'Runtime.runIfWaitingForDebugger'));
        return;
      case 'Network.requestWillBeSent':
        traffic.requests.push(params.request!.url);
        return;
      case 'Network.webSocketCreated':
        traffic.requests.push(params.url!);
        return;
      case 'Network.responseReceived':
        if (keepBody(params.response!.url)) urls.set(params.requestId!, params.response!.url);
        return;
      case 'Network.loadingFinished': {
        const url = urls.get(params.requestId!);
        if (!url) return;
        void call(sessionId, 'Network.getResponseBody', { requestId: params.requestId }).then(({ result }) => {
          if (result?.body !== undefined)
            traffic.bodies.push({ url, body: result.base64Encoded ? Buffer.from(result.body, 'base64').toString() : result.body });
        });
        return;
      }
      case 'Runtime.consoleAPICalled':
        traffic.console.push((params.args ?? []).map((arg) => String(arg.value ?? arg.description ?? '')).join(' '));
        return;
    }
  });
  // every context of the browser is seen from here: only this page's profile's worker is watched
  const pageSession = await page.context().newCDPSession(page);
  const { targetInfo: pageTarget } = await pageSession.send('Target.getTargetInfo');
  await pageSession.detach();
  cdp.on('Target.targetCreated', ({ targetInfo }) => {
    if (targetInfo.type !== 'shared_worker' || targetInfo.title !== 'genwatch-feeds') return;
    if (targetInfo.browserContextId !== pageTarget.browserContextId) return;
    void cdp.send('Target.attachToTarget', { targetId: targetInfo.targetId, flatten: false }).then(async ({ sessionId }) => {
      await call(sessionId, 'Network.enable');
      await call(sessionId, 'Runtime.enable');
    });
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  return traffic;
}
