// Demo Takoss: the platform as its own code serves it (upstream.js, the default), or as its
// integration guide describes it (guide.js, `wire: 'guide'`). See ../../shared/upstream-wire.md.
import { startGuideTakoss } from './guide.js';
import { startUpstreamTakoss } from './upstream.js';

/** @param {{ wire?: 'upstream' | 'guide' } & Record<string, any>} [options] */
export function startTakossPlatform(options = {}) {
  return (options.wire ?? 'upstream') === 'guide' ? startGuideTakoss(options) : startUpstreamTakoss(options);
}
