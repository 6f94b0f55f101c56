/** How failures are grouped, on the board's filter and in the insights alike. */

/** the failure of a job that failed without saying why */
export const NO_REASON = 'No reason given';

const ID_LIKE = /\b(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{12,}|[A-Za-z]+[-_][A-Za-z0-9]*\d[A-Za-z0-9]*)\b/gi;
const NUMBER = /\d+(?:\.\d+)?/g;

/** A failure message as a group: ids become ‹id›, numbers ‹n›, whitespace one space, at most 160 characters. */
export function failureGroup(message: string): string {
  return message.replace(ID_LIKE, '‹id›').replace(NUMBER, '‹n›').replace(/\s+/g, ' ').trim().slice(0, 160);
}
