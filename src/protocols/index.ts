import { isPlatformKind, PLATFORM_KINDS, type PlatformKind } from '../model/job';
import { codebegenDialect } from './codebegen';
import { comfyuiDialect } from './comfyui';
import type { AnyDialect, Dialect } from './dialect';
import { imagegenDialect } from './imagegen';
import { smartforgeDialect } from './smartforge';
import { takossDialect } from './takoss';

/**
 * The platform registry: one line per kind of `PLATFORM_KINDS`. Its label, badge, launch form
 * and readers all come from its dialect; its job panel is components/platforms/<Kind>Panel.vue.
 */
export const DIALECTS = {
  codebegen: codebegenDialect,
  takoss: takossDialect,
  smartforge: smartforgeDialect,
  imagegen: imagegenDialect,
  comfyui: comfyuiDialect,
} satisfies Record<PlatformKind, AnyDialect>;

export { isPlatformKind, PLATFORM_KINDS, type PlatformKind };

export function dialectFor(kind: PlatformKind): Dialect<unknown>;
export function dialectFor(kind: string): Dialect<unknown> | undefined;
export function dialectFor(kind: string): Dialect<unknown> | undefined {
  return isPlatformKind(kind) ? (DIALECTS[kind] as Dialect<unknown>) : undefined;
}

/** The platform's name as genwatch shows it; an unknown kind as itself. */
export function platformLabel(kind: string): string {
  return dialectFor(kind)?.label ?? kind;
}
