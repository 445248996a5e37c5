; Inno Setup 6 script for Reelgate's Windows installer.
;
; packaging/build.py runs it on Windows after PyInstaller, with absolute paths:
;   iscc /DAppVersion=0.1.0 /DSourceDir=<repo>\dist\reelgate /DOutputDir=<repo>\dist reelgate.iss
; Without the /D defines it uses the repository layout relative to this file.
;
; Installs the one-folder bundle (reelgate.exe, reelgate-cli.exe, _internal\), a Start menu
; entry and an uninstaller (Settings > Apps). The first page asks "for all users" (admin,
; Program Files) or "for me only" (no admin, %LOCALAPPDATA%\Programs).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\reelgate"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Reelgate"
#define AppExe "reelgate.exe"
#define RepoDir "..\.."

[Setup]
; The AppId identifies the installation for upgrades and uninstall: never change it.
AppId=app.phaseo.Reelgate
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Reelgate contributors
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-machine by default; the dialog offers a per-user install without admin rights.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile={#RepoDir}\resources\icons\reelgate.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle wholesale: files dropped by a newer build must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Generate videos from text prompts"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
