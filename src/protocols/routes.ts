import { isTransportError, type TransportError } from '../transports/error';
import { requestJson } from '../transports/http';

/**
 * What genwatch has learned about each platform deployment from its answers: which of a
 * platform's alternative paths it serves (its own code and its integration guide disagree on
 * several), and which endpoints are broken. Keyed by base URL, so every source and job of one
 * deployment shares it; memory only, relearned after a reload.
 */
export class RouteBook {
  private readonly chosen = new Map<string, string>();
  private readonly absent = new Set<string>();
  private readonly broken = new Map<string, string>();

  private static key(baseUrl: string, route: string): string {
    return `${baseUrl}\u0000${route}`;
  }

  /** The candidates with the one this deployment answered on first. */
  order<T extends { variant: string }>(baseUrl: string, route: string, candidates: readonly T[]): T[] {
    const chosen = this.chosen.get(RouteBook.key(baseUrl, route));
    if (!chosen) return candidates.slice();
    return [...candidates.filter((item) => item.variant === chosen), ...candidates.filter((item) => item.variant !== chosen)];
  }

  /** This deployment answered on this variant of the route. */
  confirm(baseUrl: string, route: string, variant: string): void {
    this.chosen.set(RouteBook.key(baseUrl, route), variant);
    this.absent.delete(RouteBook.key(baseUrl, route));
  }

  /** The deployment has no such route at all (every variant answered that the path is unknown). */
  markAbsent(baseUrl: string, route: string): void {
    this.absent.add(RouteBook.key(baseUrl, route));
  }

  isAbsent(baseUrl: string, route: string): boolean {
    return this.absent.has(RouteBook.key(baseUrl, route));
  }

  /** The route exists but keeps failing (CodeBegen's /status answers 500 for every generation). */
  markBroken(baseUrl: string, route: string, detail: string): void {
    this.broken.set(RouteBook.key(baseUrl, route), detail);
  }

  clearBroken(baseUrl: string, route: string): void {
    this.broken.delete(RouteBook.key(baseUrl, route));
  }

  brokenBecause(baseUrl: string, route: string): string | undefined {
    return this.broken.get(RouteBook.key(baseUrl, route));
  }

  /** What is known of one deployment's routes, for the protocol inspector. */
  describe(baseUrl: string): { route: string; state: string }[] {
    const prefix = `${baseUrl}\u0000`;
    const rows = new Map<string, string>();
    for (const [key, variant] of this.chosen)
      if (key.startsWith(prefix))
        rows.set(
          key.slice(prefix.length),
          `answers on the ${variant === 'upstream' ? "platform's own path" : variant === 'guide' ? "guide's path" : 'its path'}`,
        );
    for (const key of this.absent) if (key.startsWith(prefix)) rows.set(key.slice(prefix.length), 'not served');
    for (const [key, detail] of this.broken) if (key.startsWith(prefix)) rows.set(key.slice(prefix.length), `broken: ${detail}`);
    return [...rows].map(([route, state]) => ({ route, state })).sort((a, b) => a.route.localeCompare(b.route));
  }

  /** for tests */
  reset(): void {
    this.chosen.clear();
    this.absent.clear();
    this.broken.clear();
  }
}

export const routeBook = new RouteBook();

export interface RouteCandidate {
  /** 'upstream' (what the platform's code serves) or 'guide' (what its integration guide says) */
  variant: string;
  url: string;
}

/**
 * One JSON request sent to the first candidate path the deployment serves: a 404 for the path
 * itself moves on to the next, and the one that answered is remembered for next time.
 * Resolves with the body and the variant that answered; throws the first real error.
 */
export async function requestFirst(
  baseUrl: string,
  route: string,
  candidates: readonly RouteCandidate[],
  init: RequestInit & { fetch?: typeof fetch } = {},
): Promise<{ body: unknown; variant: string }> {
  let firstMissing: TransportError | undefined;
  for (const candidate of routeBook.order(baseUrl, route, candidates)) {
    try {
      const body = await requestJson(candidate.url, init);
      routeBook.confirm(baseUrl, route, candidate.variant);
      return { body, variant: candidate.variant };
    } catch (error) {
      if (isTransportError(error) && error.routeMissing) {
        firstMissing ??= error;
        continue;
      }
      throw error;
    }
  }
  routeBook.markAbsent(baseUrl, route);
  throw firstMissing ?? new Error(`No path for ${route}`);
}
