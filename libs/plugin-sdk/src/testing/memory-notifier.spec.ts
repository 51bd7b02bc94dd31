import { MemoryNotifier } from './memory-notifier';
import { describeNotifierConformance } from './notifier.conformance';

describeNotifierConformance('memory (the test notifier)', () => {
  const notifier = new MemoryNotifier();
  return { notifier, receiver: notifier };
});
