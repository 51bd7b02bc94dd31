import { randomInt } from 'node:crypto';

const ADJECTIVES = ['agile', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'eager', 'gentle', 'keen', 'lucid', 'merry', 'nimble', 'quiet', 'rapid', 'sleek', 'steady', 'sunny', 'swift', 'vivid'];
const NOUNS = ['ant', 'bass', 'crane', 'deer', 'eagle', 'finch', 'fox', 'hare', 'heron', 'lark', 'lynx', 'mole', 'otter', 'owl', 'panda', 'robin', 'seal', 'swan', 'trout', 'wolf'];

/** A readable name for a run created without one (`swift-otter-417`), as MLflow gives. */
export function generatedRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
