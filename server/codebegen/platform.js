// Demo CodeBegen: the platform as its own code serves it (upstream.js, the default), or as its
// integration guide describes it (guide.js, `wire: 'guide'`). See ../../shared/upstream-wire.md.
import { startGuideCodebegen } from './guide.js';
import { startUpstreamCodebegen } from './upstream.js';

/** @param {{ wire?: 'upstream' | 'guide' } & Record<string, any>} [options] */
export function startCodebegenPlatform(options = {}) {
  return (options.wire ?? 'upstream') === 'guide' ? startGuideCodebegen(options) : startUpstreamCodebegen(options);
}
