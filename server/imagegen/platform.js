// Demo image generation: the platform as its own code serves it (upstream.js, the default), or as its
// integration guide describes it (guide.js, `wire: 'guide'`). See ../../shared/upstream-wire.md.
import { startGuideImagegen } from './guide.js';
import { startUpstreamImagegen } from './upstream.js';

/** @param {{ wire?: 'upstream' | 'guide' } & Record<string, any>} [options] */
export function startImagegenPlatform(options = {}) {
  return (options.wire ?? 'upstream') === 'guide' ? startGuideImagegen(options) : startUpstreamImagegen(options);
}
