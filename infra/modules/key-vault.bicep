// Key Vault in RBAC mode: provider keys registered through the API, the API key pepper and the managed
// model's key. The template creates no secret; see infra/hooks.

param name string
param location string
param tags object

@description('Principal that reads and writes secrets at run time (the app identity).')
param appPrincipalId string

@description('Principal that sets secrets after provisioning (whoever runs azd); empty to grant nobody.')
param deployerPrincipalId string = ''

@description('Days a deleted vault or secret can be recovered; fixed once the vault exists.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Whether deleted secrets can never be purged before softDeleteRetentionInDays. Off by default: erasing an account purges its provider keys, which purge protection forbids (they would stay recoverable by vault administrators for the retention period). Fixed once on.')
param purgeProtection bool = false

@description('Log Analytics workspace that receives the vault\'s audit log (every secret read, written or denied).')
param logAnalyticsWorkspaceId string

@description('Whether the vault is reached through a private endpoint (created by private-endpoints.bicep) instead of the internet.')
param privateNetwork bool = false

@description('With a private network: public addresses (IPv4, or CIDR ranges) still let through the firewall, so the post-provision hook can create the pepper from the deployer\'s machine. Empty: the vault has no public access at all.')
param allowedIpAddresses array = []

import { roleIds } from 'roles.bicep'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: privateNetwork && empty(allowedIpAddresses) ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateNetwork ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      ipRules: privateNetwork ? map(allowedIpAddresses, address => { value: address }) : []
    }
  }
}

// The app creates and deletes a secret per registered provider, so it needs Secrets Officer on the
// vault; Secrets User would only let it read. Officer's data actions (Microsoft.KeyVault/vaults/secrets/*)
// include purging a deleted secret, which erasure does; with purgeProtection on, the vault refuses it and
// a deleted secret expires after softDeleteRetentionInDays.
resource appSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
  }
}

// The deployer may be a user or a service principal (CI), so the principal type is left to Azure.
resource deployerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
