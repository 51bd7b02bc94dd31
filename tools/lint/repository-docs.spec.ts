import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The services the code defines (`defineService({ name: '...' })` in libs/<service>/src/<service>.definition.ts). */
function definedServices(): string[] {
  return readdirSync(join(root, 'libs'))
    .flatMap((lib) => {
      const file = join(root, 'libs', lib, 'src', `${lib}.definition.ts`);
      return existsSync(file) ? [...readFileSync(file, 'utf8').matchAll(/defineService\(\{\s*name: '([a-z0-9]+)'/g)].map((match) => match[1]) : [];
    })
    .sort();
}

/** Relative links of a markdown file: `[text](target)` that is not a URL or an anchor. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((match) => match[1]).filter((target) => !/^[a-z]+:/.test(target));
}

const markdownFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

describe('repository documents', () => {
  it('ships a LICENSE whose text is the license package.json names', () => {
    const { license } = JSON.parse(read('package.json')) as { license: string };
    expect(license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('points only at files inside the repository', () => {
    for (const file of markdownFiles) {
      const text = read(file);
      expect({ file, outside: text.includes('../shared') }).toEqual({ file, outside: false });
      for (const target of relativeLinks(text)) {
        const path = resolve(dirname(join(root, file)), target);
        expect({ file, target, inside: path.startsWith(root), exists: existsSync(path) }).toEqual({ file, target, inside: true, exists: true });
      }
    }
  });

  it("names every service the code defines in the README's first paragraph and the architecture's service table", () => {
    const services = definedServices();
    expect(services).toEqual(expect.arrayContaining(['governance', 'registry', 'tracking']));
    const firstParagraph = read('README.md').split('\n\n')[1];
    const serviceTable = read('docs/architecture.md').split('## Services')[1].split('\n\n')[1];
    for (const service of services) {
      expect({ service, inReadme: firstParagraph.includes(service === 'tracking' ? 'experiment tracking' : service) }).toEqual({ service, inReadme: true });
      expect({ service, inArchitecture: serviceTable.includes(`| ${service} (`) }).toEqual({ service, inArchitecture: true });
    }
  });
});
