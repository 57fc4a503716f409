// The Orchflow Function App on the Flex Consumption plan (Linux, .NET isolated worker), running as
// the user-assigned identity. Every connection in its settings is identity-based; the secrets it
// reads are Key Vault references, resolved by the platform with the same identity. The durable
// backend's settings (task hub, partitions, polling) live in host.json only, where Flex's scaler
// reads them.

param name string
param planName string
param location string
param tags object

@description('User-assigned identity the app runs as.')
param identityName string

param storageAccountName string

@description('Account the API\'s tables live in when apart from storageAccountName (created beside it); empty to keep them there.')
param apiTablesAccountName string = ''

@description('Blob container the plan deploys the app package from.')
param deploymentContainerName string

param keyVaultName string
param applicationInsightsName string

@description('Log Analytics workspace the app\'s diagnostic settings send to.')
param logAnalyticsWorkspaceId string

@description('Most instances the plan scales the app out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Instances kept warm for HTTP functions (billed while idle); 0 for none.')
@minValue(0)
param alwaysReadyHttpInstances int

@description('Instances kept warm for the durable functions (orchestrator, activities), so idle runs do not wait on a cold start (billed while idle); 0 for none.')
@minValue(0)
param alwaysReadyDurableInstances int

@description('HTTP requests one instance serves at once before the plan adds another; each open event stream holds one.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int

@description('Sampler of traces, as the Azure Monitor exporter reads OTEL_TRACES_SAMPLER.')
@allowed([
  'microsoft.rate_limited'
  'microsoft.fixed_percentage'
])
param traceSampler string

@description('OTEL_TRACES_SAMPLER_ARG: traces per second per instance (rate_limited) or the fraction kept, 0 to 1 (fixed_percentage).')
param traceSamplerArgument string

@description('Prefix of every table name of the run projection.')
param tablePrefix string

@description('Managed trial runs per new account.')
@minValue(0)
param trialRuns int

@description('Provider of the managed (trial) model; empty for the built-in simulated model.')
param managedModelProvider string

@description('Model, or deployment for azure_openai, of the managed model.')
param managedModelName string

@description('Endpoint of the managed model (azure_openai, openai_compatible).')
param managedModelEndpoint string

@description('Origins of web pages on other sites that may call the API from the browser; empty for none.')
param corsAllowedOrigins array = []

@description('Subnet the app joins (VNet integration) to reach Storage and Key Vault privately; empty for none.')
param appSubnetId string = ''

import { secretNames } from 'secret-names.bicep'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var clientId = identity.properties.clientId

var appSettings = {
  // Functions host storage and the Durable extension's Azure Storage backend.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: clientId
  // DefaultAzureCredential in the app (tables, Key Vault) picks the user-assigned identity from this.
  AZURE_CLIENT_ID: clientId
  // The connection string only locates the resource; ingestion is authorized by the identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${clientId};Authorization=AAD'
  // With telemetryMode OpenTelemetry the host ignores host.json's sampling settings; the Azure Monitor exporter (in the
  // host and in the app) samples traces by these two instead.
  OTEL_TRACES_SAMPLER: traceSampler
  OTEL_TRACES_SAMPLER_ARG: traceSamplerArgument
  // The app's own logs: warnings from libraries, Orchflow's information (requests and runs are traces, not logs).
  Logging__LogLevel__Default: 'Warning'
  Logging__LogLevel__Orchflow: 'Information'
  Orchflow__Storage__TableServiceUri: empty(apiTablesAccountName)
    ? storage.properties.primaryEndpoints.table
    : 'https://${apiTablesAccountName}.table.${environment().suffixes.storage}/'
  Orchflow__Storage__TablePrefix: tablePrefix
  // Webhook deliveries travel on this queue: the app sends with the identity, the queue trigger reads it through
  // AzureWebJobsStorage; both name it by ORCHFLOW_WEBHOOK_QUEUE, flat because the scale controller that starts the
  // trigger from zero does not resolve setting names containing ':' or '__' (azure-functions-dotnet-worker #849).
  Orchflow__Storage__QueueServiceUri: storage.properties.primaryEndpoints.queue
  ORCHFLOW_WEBHOOK_QUEUE: 'orchflow-webhooks'
  Orchflow__Secrets__VaultUri: vault.properties.vaultUri
  // Key Vault references without a version follow the newest version of the secret.
  Orchflow__Security__ApiKeyPepper: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secretNames.apiKeyPepper})'
  Orchflow__TrialRuns: string(trialRuns)
  // Registration is limited per caller address; behind Azure's front end the connection is the proxy's.
  Orchflow__RateLimit__ClientAddressHeader: 'X-Forwarded-For'
}

// Only with a managed model: its key is a reference to a secret the deployer sets, and a reference to a secret that
// does not exist would leave the setting unresolved (and the app refusing to start).
var managedModelSettings = empty(managedModelProvider)
  ? {}
  : {
      Orchflow__ManagedModel__Provider: managedModelProvider
      Orchflow__ManagedModel__Model: managedModelName
      Orchflow__ManagedModel__Endpoint: managedModelEndpoint
      Orchflow__ManagedModel__ApiKey: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secretNames.managedModelApiKey})'
    }

// CORS is the app's alone (both hosts answer preflights and add the headers from this list, exposed headers
// included, which the platform's CORS cannot set); the platform's list stays empty so it never answers instead.
var corsSettings = toObject(range(0, length(corsAllowedOrigins)), i => 'Orchflow__Cors__AllowedOrigins__${i}', i => corsAllowedOrigins[i])

// Flex Consumption scales HTTP triggers and durable triggers as separate groups.
var alwaysReady = concat(
  alwaysReadyHttpInstances == 0
    ? []
    : [
        {
          name: 'http'
          instanceCount: alwaysReadyHttpInstances
        }
      ],
  alwaysReadyDurableInstances == 0
    ? []
    : [
        {
          name: 'durable'
          instanceCount: alwaysReadyDurableInstances
        }
      ]
)

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: []
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReady
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, managedModelSettings, corsSettings)
  }

  // Deployments authenticate with Microsoft Entra ID; publishing user names and passwords are off.
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
