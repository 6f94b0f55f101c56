/**
 * Platform text made safe to look at. Vue already renders it as text, never markup; what is
 * left is text that lies to the eye: bidirectional overrides that turn "invoice‮txt.exe" into
 * "invoiceexe.txt", zero-width characters that make two names look alike, lone surrogates,
 * and names so long they bury the page.
 */

// bidi embeddings, overrides, isolates and marks; zero-width spaces, joiners and the BOM
const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const codePoint = (char: string) => `⟨U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`;

/** Invisible controls shown as ⟨U+202E⟩, lone surrogates as U+FFFD, and at most `max` characters. */
export function visibleText(text: string, max = 2000): string {
  let out = text.replace(INVISIBLE, codePoint).replace(LONE_SURROGATE, '\uFFFD');
  if (out.length > max) out = `${out.slice(0, max)}… (${text.length.toLocaleString('en')} characters)`;
  return out;
}

/** names: a title, a stage, a file path */
export const visibleName = (text: string) => visibleText(text, 200);
