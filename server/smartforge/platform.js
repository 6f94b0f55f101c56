// Demo Smart Forge: the platform as its own code serves it (upstream.js, the default), or as its
// integration guide describes it (guide.js, `wire: 'guide'`). See ../../shared/upstream-wire.md.
import { startGuideSmartforge } from './guide.js';
import { startUpstreamSmartforge } from './upstream.js';

/** @param {{ wire?: 'upstream' | 'guide' } & Record<string, any>} [options] */
export function startSmartforgePlatform(options = {}) {
  return (options.wire ?? 'upstream') === 'guide' ? startGuideSmartforge(options) : startUpstreamSmartforge(options);
}
