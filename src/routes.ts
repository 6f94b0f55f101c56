import type { RouteLocationRaw } from 'vue-router';

/** The shareable address of a job: source and job id only, never a token. */
export function jobRoute(sourceId: string, jobId: string): RouteLocationRaw {
  return { name: 'job', params: { sourceId, jobId } };
}

/** Stage names as the operator reads them: code_generation becomes "code generation". */
export function stageLabel(stage: string | undefined): string {
  return stage ? stage.replace(/[_:-]+/g, ' ') : '—';
}
