# What `cmake --install` (and so the Debian package) puts beside the binary:
# the built-in scenarios as files, the systemd unit, and the man pages built
# from docs/man/*.scd with scdoc (LM_MAN=ON).
include(GNUInstallDirs)

install(FILES ${LM_SCENARIO_YAML} DESTINATION ${CMAKE_INSTALL_DATADIR}/lyncmock/scenarios)

pkg_get_variable(LM_SYSTEMD_UNITDIR systemd systemdsystemunitdir)
if(NOT LM_SYSTEMD_UNITDIR)
	set(LM_SYSTEMD_UNITDIR /lib/systemd/system)
endif()
set(LM_SYSTEMD_UNITDIR ${LM_SYSTEMD_UNITDIR} CACHE PATH "where the systemd unit goes")
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/lyncmock-listen@.service
	DESTINATION ${LM_SYSTEMD_UNITDIR})

option(LM_MAN "Build the man pages (needs scdoc)" OFF)
if(LM_MAN)
	find_program(SCDOC scdoc REQUIRED)
	file(GLOB LM_MAN_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
	set(LM_MAN_PAGES)
	foreach(src ${LM_MAN_SRC})
		get_filename_component(page ${src} NAME_WLE) # lyncmock-listen.1
		set(out ${CMAKE_BINARY_DIR}/man/${page})
		add_custom_command(OUTPUT ${out}
			COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
			COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${SCDOC} ${src} ${out}
			DEPENDS ${src} COMMENT "scdoc ${page}" VERBATIM)
		list(APPEND LM_MAN_PAGES ${out})
	endforeach()
	add_custom_target(man ALL DEPENDS ${LM_MAN_PAGES})
	install(FILES ${LM_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
