; SPDX-License-Identifier: MIT
; installer.nsi: restartmgr's own NSIS installer for the wine.nsis tests.
; It updates three files that running programs use, the way an installer
; written for Windows does it with the Restart Manager, calling
; rstrtmgr.dll through NSIS's System plugin (Debian's NSIS 3.08 ships no
; RestartManager.nsh):
;   RmStartSession, RmRegisterResources (the files it will replace),
;   RmGetList in the two-call loop (ERROR_MORE_DATA says how many), each
;   app shown, RmShutdown, the files replaced with File, RmRestart,
;   RmEndSession.
; Everything it does and gets goes to $INSTDIR\install.log, which the test
; reads (a silent installer shows nothing).
;
;   makensis -DTARGET=amd64-unicode|x86-unicode -DPAYLOAD=DIR -DOUTFILE=EXE installer.nsi
;   setup.exe /S /D=C:\dir        (the three files are in C:\dir)
;
; PAYLOAD holds the new doc.txt, data.txt and rmtestdll.dll.

Unicode true
Target ${TARGET}
Name "restartmgr NSIS test"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$TEMP\restartmgr-nsis"
SilentInstall normal
ShowInstDetails show

!define RM_PROCESS_INFO_SIZE 668
!define ERROR_MORE_DATA 234

Var session
Var log

Var tick
Var tick0

; One line of the log, with the milliseconds since the installer began.
!macro LOG TEXT
  System::Call 'kernel32::GetTickCount() i .s'
  Pop $tick
  IntOp $tick $tick - $tick0
  FileWrite $log "[$tick ms] ${TEXT}$\r$\n"
  DetailPrint "${TEXT}"
!macroend
!define LOG "!insertmacro LOG"

; Logs what a call returned ($0); fails the installer unless 0.
Function CheckRc
  Exch $9
  ${LOG} "$9: $0"
  StrCmp $0 0 fine
    ${LOG} "FAILED: $9 returned $0"
    Abort "$9 returned $0"
  fine:
  Pop $9
FunctionEnd
!macro CHECK_RC WHAT
  Push "${WHAT}"
  Call CheckRc
!macroend
!define CHECK_RC "!insertmacro CHECK_RC"

; RmGetList in the two-call loop; shows every app.  $R9: the count.
Function ListApps
  StrCpy $R5 0                          ; capacity
  StrCpy $R6 0                          ; buffer
  StrCpy $R8 0                          ; rounds
  again:
    IntOp $R8 $R8 + 1
    System::Call 'rstrtmgr::RmGetList(i $session, *i 0 R1, *i R5 R2, p R6, *i 0 R3) i .r0'
    StrCmp $0 ${ERROR_MORE_DATA} 0 listed
    ${LOG} "RmGetList: ERROR_MORE_DATA, $R1 needed"
    StrCmp $R6 0 no_old
      System::Free $R6
    no_old:
    StrCpy $R5 $R1
    IntOp $R4 $R1 * ${RM_PROCESS_INFO_SIZE}
    System::Alloc $R4
    Pop $R6
    IntCmp $R8 10 0 again
  listed:
  ${CHECK_RC} "RmGetList"
  StrCpy $R9 $R2
  ${LOG} "RmGetList: $R9 affected, reboot reasons $R3, $R8 calls"
  StrCpy $R7 0
  show:
    IntCmp $R7 $R9 shown 0 shown
    IntOp $R4 $R7 * ${RM_PROCESS_INFO_SIZE}
    IntPtrOp $R4 $R6 + $R4
    System::Call '*$R4(i .r1, i, i, &w256 .r2, &w64, i .r3, i .r4, i, i .r5)'
    ${LOG} "  app pid $1 name $2 type $3 status $4 restartable $5"
    IntOp $R7 $R7 + 1
    Goto show
  shown:
  StrCmp $R6 0 done
    System::Free $R6
  done:
FunctionEnd

Section "Update"
  SetOutPath $INSTDIR
  System::Call 'kernel32::GetTickCount() i .s'
  Pop $tick0
  FileOpen $log "$INSTDIR\install.log" w
  ${LOG} "installing into $INSTDIR"

  ; 1. A session; the files it will replace, as an array of strings.
  System::Call 'rstrtmgr::RmStartSession(*i 0 r1, i 0, w .r2) i .r0'
  ${CHECK_RC} "RmStartSession"
  StrCpy $session $1
  ${LOG} "session $session, key $2"
  System::Call '*(&w${NSIS_MAX_STRLEN} "$INSTDIR\doc.txt") p .r5'
  System::Call '*(&w${NSIS_MAX_STRLEN} "$INSTDIR\data.txt") p .r6'
  System::Call '*(&w${NSIS_MAX_STRLEN} "$INSTDIR\rmtestdll.dll") p .r7'
  System::Call '*(p r5, p r6, p r7) p .r8'
  System::Call 'rstrtmgr::RmRegisterResources(i $session, i 3, p r8, i 0, p 0, i 0, p 0) i .r0'
  System::Free $8
  System::Free $7
  System::Free $6
  System::Free $5
  ${CHECK_RC} "RmRegisterResources"

  ; 2. Who uses them.
  Call ListApps

  ; 3. Shut them down (no force: they are asked to close).
  System::Call 'rstrtmgr::RmShutdown(i $session, i 0, p 0) i .r0'
  ${CHECK_RC} "RmShutdown"
  Call ListApps

  ; 4. Replace the files.
  File "${PAYLOAD}\doc.txt"
  File "${PAYLOAD}\data.txt"
  File "${PAYLOAD}\rmtestdll.dll"
  ${LOG} "files replaced"

  ; 5. Restart what was stopped; end.
  System::Call 'rstrtmgr::RmRestart(i $session, i 0, p 0) i .r0'
  ${CHECK_RC} "RmRestart"
  Call ListApps
  System::Call 'rstrtmgr::RmEndSession(i $session) i .r0'
  ${CHECK_RC} "RmEndSession"
  ${LOG} "done"
  FileClose $log
SectionEnd
