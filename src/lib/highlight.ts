import type { Token, TokenStream } from 'prismjs';

/** A piece of a highlighted line: text and the token classes to style it with. */
export interface CodePiece {
  text: string;
  className?: string;
}

type PrismApi = typeof import('prismjs');

let loading: Promise<PrismApi> | undefined;

/**
 * Prism, loaded on first use so the board never pays for it. Only its tokenizer is used:
 * the view renders tokens as text nodes, so no highlighter HTML ever reaches the page.
 */
export function loadHighlighter(): Promise<PrismApi> {
  loading ??= (async () => {
    const scope = globalThis as unknown as { Prism?: { manual?: boolean } };
    scope.Prism = { ...scope.Prism, manual: true };
    const prism = (await import('prismjs')).default;
    await import('prismjs/components/prism-json');
    await import('prismjs/components/prism-python');
    await import('prismjs/components/prism-typescript');
    return prism;
  })();
  return loading;
}

const LANGUAGE_ALIASES: Record<string, string> = {
  js: 'javascript',
  javascript: 'javascript',
  ts: 'typescript',
  typescript: 'typescript',
  json: 'json',
  py: 'python',
  python: 'python',
};

export function languageOf(path: string, declared?: string): string | undefined {
  const fromDeclared = declared ? LANGUAGE_ALIASES[declared.toLowerCase()] : undefined;
  return fromDeclared ?? LANGUAGE_ALIASES[path.split('.').pop()?.toLowerCase() ?? ''];
}

/** Splits code into lines of pieces; without a grammar every line is one plain piece. */
export function highlightLines(prism: PrismApi | undefined, code: string, language: string | undefined): CodePiece[][] {
  const grammar = prism && language ? prism.languages[language] : undefined;
  if (!grammar) return code.split('\n').map((line) => [{ text: line }]);
  const lines: CodePiece[][] = [[]];
  const walk = (stream: TokenStream, classes: string) => {
    if (typeof stream === 'string') {
      const parts = stream.split('\n');
      parts.forEach((part, index) => {
        if (index > 0) lines.push([]);
        if (part) lines.at(-1)!.push({ text: part, className: classes || undefined });
      });
      return;
    }
    if (Array.isArray(stream)) {
      for (const item of stream) walk(item, classes);
      return;
    }
    const token = stream as Token;
    const alias = Array.isArray(token.alias) ? token.alias.join(' ') : (token.alias ?? '');
    walk(token.content, `${classes} token ${token.type} ${alias}`.trim());
  };
  walk(prism!.tokenize(code, grammar), '');
  return lines;
}
