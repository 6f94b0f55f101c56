import { isTransportError } from '../transports/error';
import type { JobLookup } from './dialect';
import { requestFirst, routeBook, type RouteCandidate } from './routes';
import type { Source } from './source';

/**
 * Asks the first of a platform's paths this deployment serves what an id is. A 404 (or 400)
 * that names the job rather than the path is "not found", in the platform's own words; a
 * deployment that serves none of the paths cannot tell. Other failures (a refused token, a
 * platform away) are thrown for the caller to show.
 */
export async function lookupFirst(
  source: Source,
  route: string,
  candidates: readonly RouteCandidate[],
  init: RequestInit & { fetch?: typeof fetch },
  found: (body: unknown) => JobLookup,
  { final = true }: { final?: boolean } = {},
): Promise<JobLookup> {
  if (routeBook.isAbsent(source.baseUrl, route)) return { state: 'unknown', detail: `this deployment serves no route to look an id up (${route})` };
  try {
    const { body } = await requestFirst(source.baseUrl, route, candidates, init);
    return found(body);
  } catch (error) {
    if (!isTransportError(error)) throw error;
    if (error.routeMissing) return { state: 'unknown', detail: `this deployment serves no route to look an id up (${route})` };
    if (error.status === 404 || error.status === 400 || error.status === 422) return { state: 'not-found', answer: error.message, final };
    throw error;
  }
}
