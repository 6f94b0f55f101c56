import type { PlatformKind } from '../model/job';
import { codebegenDialect } from './codebegen';
import type { Dialect } from './dialect';

/** Dialects by platform kind; a source whose kind has none is listed but not watched. */
export const DIALECTS: Partial<Record<PlatformKind, Dialect<any>>> = {
  codebegen: codebegenDialect,
};

export function dialectFor(kind: PlatformKind): Dialect<any> | undefined {
  return DIALECTS[kind];
}
