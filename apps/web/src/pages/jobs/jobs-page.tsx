import { Page } from '../../components/page';

export function JobsPage() {
  return <Page title="Jobs" />;
}
