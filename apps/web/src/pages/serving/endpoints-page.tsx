import { Page } from '../../components/page';

export function EndpointsPage() {
  return <Page title="Endpoints" />;
}
