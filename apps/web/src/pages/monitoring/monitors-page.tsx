import { Page } from '../../components/page';

export function MonitorsPage() {
  return <Page title="Monitoring" />;
}
