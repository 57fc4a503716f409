// The one Storage account of a deployment: Functions host state and the deployment package (blobs),
// the Durable Task hub on the Azure Storage backend (queues, tables, blob leases) and the run
// projection (tables). Shared-key access is off: only Microsoft Entra identities get in.

param name string
param location string
param tags object

@description('Blob container the Flex Consumption plan deploys the app package from.')
param deploymentContainerName string

@description('Principal given blob, queue and table data access (the app identity).')
param dataPrincipalId string

@description('Redundancy of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param skuName string = 'Standard_LRS'

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
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

// Data roles only, at the account scope: the host and the durable backend create their own
// containers, queues and tables. Blob Data Owner is not needed: it adds POSIX ACL management,
// which an account without a hierarchical namespace does not have.
var dataRoleIds = [
  roleIds.storageBlobDataContributor
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

output name string = storage.name
