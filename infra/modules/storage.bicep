// A Storage account of a deployment. The main one holds Functions host state and the deployment package
// (blobs), the Durable Task hub on the Azure Storage backend (queues, tables, blob leases), the webhook
// queue and, unless they have an account of their own (tablesOnly), the API's tables. Shared-key access
// is off: only Microsoft Entra identities get in.

param name string
param location string
param tags object

@description('Blob container the Flex Consumption plan deploys the app package from; empty for none.')
param deploymentContainerName string = ''

@description('Whether the account holds the API\'s tables alone: the identity gets table data access only.')
param tablesOnly bool = false

@description('Principal given data access (the app identity): blob, queue and table, or table alone with tablesOnly.')
param dataPrincipalId string

@description('Redundancy of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param skuName string = 'Standard_LRS'

@description('Log Analytics workspace the account\'s diagnostic settings send to.')
param logAnalyticsWorkspaceId string

@description('Whether reads are logged too. Off by default: the Functions host and the durable backend poll queues and leases all day, so reads are most of the volume and cost.')
param logReads bool = false

@description('Whether the account is reached only through private endpoints (created by private-endpoints.bicep).')
param privateNetwork bool = false

import { roleIds } from 'roles.bicep'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateNetwork ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetwork ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = if (!empty(deploymentContainerName)) {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'
  }

  resource tableService 'tableServices' = {
    name: 'default'
  }
}

// Data roles only, at the account scope: the host and the durable backend create their own containers, queues and
// tables. Blob Data Owner rather than Contributor, as Microsoft documents for AzureWebJobsStorage with an identity.
var dataRoleIds = tablesOnly
  ? [
      roleIds.storageTableDataContributor
    ]
  : [
      roleIds.storageBlobDataOwner
      roleIds.storageQueueDataContributor
      roleIds.storageTableDataContributor
    ]

resource dataAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in dataRoleIds: {
    name: guid(storage.id, dataPrincipalId, roleId)
    scope: storage
    properties: {
      principalId: dataPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

// Who wrote or deleted what, per service; the account itself has metrics only.
var serviceLogs = [
  for category in concat(logReads ? ['StorageRead'] : [], ['StorageWrite', 'StorageDelete']): {
    category: category
    enabled: true
  }
]

var transactionMetrics = [
  {
    category: 'Transaction'
    enabled: true
  }
]

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

output name string = storage.name
output id string = storage.id
