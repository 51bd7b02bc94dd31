import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A service account governance made for a platform service (the registry) names that service:
 * its tokens carry the roles of a service identity (see IdentityService.bindingsOf), which no
 * account created through the API can get. Other principals have NULL. A plain ADD COLUMN on both
 * databases, and a unique index so that each service has one account per org.
 */
export class AddPrincipalService1767490000000 implements MigrationInterface {
  name = 'AddPrincipalService1767490000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE principals ADD COLUMN service varchar(30) NULL');
    await runner.query('CREATE UNIQUE INDEX principals_org_service ON principals (org_id, service)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX principals_org_service');
    await runner.query('ALTER TABLE principals DROP COLUMN service');
  }
}
