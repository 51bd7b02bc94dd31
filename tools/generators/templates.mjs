// Renders a folder of templates: every `<path>.tmpl` becomes `<path>` with `__key__` in the path
// and `{{key}}` in the text replaced by the value of `key`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const SUFFIX = '.tmpl';

function* templateFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* templateFiles(path);
    else if (entry.name.endsWith(SUFFIX)) yield path;
  }
}

/** `text` with each `{{key}}` replaced; throws naming a placeholder that has no value, so no template ships one. */
export function fill(text, values, where) {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!Object.hasOwn(values, key)) throw new Error(`${where}: no value for the placeholder {{${key}}}`);
    return values[key];
  });
}

/** The files a template folder makes: `{ path, text }`, path relative to the repository root. */
export function render(templateDir, values) {
  return [...templateFiles(templateDir)].map((file) => {
    const template = relative(templateDir, file).slice(0, -SUFFIX.length);
    const path = template.replace(/__(\w+?)__/g, (_, key) => {
      if (!Object.hasOwn(values, key)) throw new Error(`${template}: no value for the path placeholder __${key}__`);
      return values[key];
    });
    return { path, text: fill(readFileSync(file, 'utf8'), values, template) };
  });
}

/** Throws listing every one of `paths` that exists under `root`: generators add files, they never replace one. */
export function refuseExisting(root, paths) {
  const existing = paths.filter((path) => existsSync(join(root, path)));
  if (existing.length > 0) throw new Error(`refusing to overwrite what exists: ${existing.join(', ')}`);
}

/** Writes the rendered files under `root`. */
export function writeFiles(root, files) {
  for (const { path, text } of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text, { flag: 'wx' });
  }
}
