import type { PlatformKind } from '../model/job';
import { codebegenDialect } from './codebegen';
import type { Dialect } from './dialect';
import { imagegenDialect } from './imagegen';
import { smartforgeDialect } from './smartforge';
import { takossDialect } from './takoss';

/** Dialects by platform kind. */
export const DIALECTS: Record<PlatformKind, Dialect<unknown>> = {
  codebegen: codebegenDialect,
  takoss: takossDialect,
  smartforge: smartforgeDialect,
  imagegen: imagegenDialect,
};

export function dialectFor(kind: PlatformKind): Dialect<unknown> | undefined {
  return DIALECTS[kind];
}
