// Ids of the built-in Azure roles this template grants, by role name. Role definition ids are the
// same in every tenant.

@export()
@description('Built-in role definition ids, keyed by role name.')
var roleIds = {
  // Full access to blobs and containers: the role Microsoft documents for AzureWebJobsStorage with an identity
  // (Functions host state, deployment package, durable leases and large messages).
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Send, receive and delete queue messages (the durable control and work-item queues, the webhook queue).
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Read, write and delete table entities (durable history and instances, the run projection).
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Get, set and delete secrets (provider keys; Key Vault references in app settings).
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  // Send telemetry to Application Insights with Microsoft Entra authentication.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
